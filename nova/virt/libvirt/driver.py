"""The libvirt compute driver: domain XML from the instance and its VIFs.

For each VIF the driver chosen by its port configuration plugs the host side
and builds the ``<interface>``; the domain is validated against libvirt's
RelaxNG schema, defined (libvirt validates again if ``[libvirt]
define_validate`` says so, or if the schema is not installed here) and
started on ``[libvirt] connection_uri``, and the XML it defined is kept in
``$state_path/instances/<uuid>/libvirt.xml``.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import shutil
import threading

import jinja2
import libvirt
from lxml import etree

import nova.conf
from nova import exception
from nova.network import model
from nova.virt import driver
from nova.virt.libvirt import config
from nova.virt.libvirt import host_net
from nova.virt.libvirt import vif as vif_drivers

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)

SCHEMA = "/usr/share/libvirt/schemas/domain.rng"


class InstanceSpawnError(exception.NovaException):
    msg_fmt = "Could not start instance %(instance_uuid)s: %(reason)s"


class InvalidDomainXML(InstanceSpawnError):
    msg_fmt = "Domain XML of instance %(instance_uuid)s is invalid: %(reason)s"


@functools.cache
def _relaxng(path: str = SCHEMA) -> etree.RelaxNG | None:
    """Return libvirt's domain schema, or None (with a warning) if it is not installed."""
    if not os.path.exists(path):
        LOG.warning("%s is missing (install libvirt0): relying on libvirt's own validation", path)
        return None
    return etree.RelaxNG(etree.parse(path))


def validate_domain(xml: str) -> bool:
    """Check a domain against libvirt's RelaxNG schema; return False if it is not installed.

    :raises InvalidDomainXML: it does not validate.
    """
    schema = _relaxng()
    if schema is None:
        return False
    document = etree.fromstring(xml.encode())
    if not schema.validate(document):
        errors = "; ".join(f"line {e.line}: {e.message}" for e in schema.error_log)
        uuid = document.findtext("uuid") or "?"
        raise InvalidDomainXML(instance_uuid=uuid, reason=errors)
    return True


def _virt_type(uri: str) -> str:
    if CONF.libvirt.virt_type:
        return CONF.libvirt.virt_type
    return "test" if uri.startswith("test://") else "kvm"


class LibvirtDriver(driver.ComputeDriver):
    """Guests on one libvirt connection."""

    def __init__(self, uri: str | None = None, host: host_net.HostNetwork | None = None):
        self.uri = uri or CONF.libvirt.connection_uri
        if host is None and CONF.libvirt.plug_vifs:
            host = host_net.HostNetwork()
        self.vifs = vif_drivers.VIFDriverSelector(
            CONF.libvirt.vif_driver, host=host, template=CONF.libvirt.vif_template
        )
        self._connection: libvirt.virConnect | None = None
        self._lock = threading.Lock()
        _relaxng()  # loaded now (~70 ms), not by the first spawn; warns now if missing

    # --- the connection ----------------------------------------------------------------

    @property
    def connection(self) -> libvirt.virConnect:
        """Return the libvirt connection, (re)opening it when needed."""
        with self._lock:
            if self._connection is None or not self._connection.isAlive():
                LOG.info("Connecting to libvirt at %s", self.uri)
                self._connection = libvirt.open(self.uri)
            return self._connection

    def _lookup(self, instance_uuid: str) -> libvirt.virDomain | None:
        try:
            return self.connection.lookupByUUIDString(instance_uuid)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                return None
            raise

    # --- building the domain --------------------------------------------------------------

    @staticmethod
    def instance_dir(instance) -> str:
        """Return ``$state_path/instances/<uuid>``."""
        return os.path.join(CONF.state_path, "instances", instance.uuid)

    def build_interfaces(self, instance, network_info: model.NetworkInfo):
        """Return the ``<interface>`` config of every VIF, in VIF order."""
        return [self.vifs.driver_for(vif).get_config(instance, vif) for vif in network_info]

    def build_domain(self, instance, network_info: model.NetworkInfo) -> str:
        """Return the domain XML of ``instance`` with its disk and interfaces."""
        disk = config.GuestDisk(source_path=os.path.join(self.instance_dir(instance), "disk"))
        devices = [disk, *self.build_interfaces(instance, network_info)]
        if CONF.libvirt.xml_template:
            return self._from_template(instance, devices)
        guest = config.Guest(
            virt_type=_virt_type(self.uri),
            name=vif_drivers.instance_name(instance),
            uuid=instance.uuid,
            memory_kib=(instance.memory_mb or 512) * 1024,
            vcpus=instance.vcpus or 1,
            metadata={
                "name": instance.display_name or "",
                "image": instance.image_ref or "",
            },
            devices=devices,
        )
        return guest.to_xml()

    def _from_template(self, instance, devices) -> str:
        """Render ``[libvirt] xml_template`` and put the devices in its ``<devices>``."""
        with open(CONF.libvirt.xml_template, encoding="utf-8") as handle:
            template = jinja2.Environment(autoescape=True).from_string(handle.read())
        rendered = template.render(
            name=vif_drivers.instance_name(instance),
            uuid=instance.uuid,
            memory_kib=(instance.memory_mb or 512) * 1024,
            vcpus=instance.vcpus or 1,
            virt_type=_virt_type(self.uri),
            display_name=instance.display_name or "",
            image_ref=instance.image_ref or "",
        )
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        root = etree.fromstring(rendered.encode(), parser)
        devices_element = root.find("devices")
        if devices_element is None:
            devices_element = etree.SubElement(root, "devices")
        for device in devices:
            devices_element.append(device.format_dom())
        return etree.tostring(root, pretty_print=True, encoding="unicode")

    # --- the driver interface -------------------------------------------------------------

    def spawn(self, instance, network_info):
        """Plug, build, validate, define and start; undo all of it on failure."""
        directory = self.instance_dir(instance)
        plugged: list[model.VIF] = []
        domain = None
        try:
            os.makedirs(directory, exist_ok=True)
            with open(os.path.join(directory, "disk"), "ab") as disk:
                disk.truncate((instance.root_gb or 1) * 1024**3)  # sparse
            # Build and check the XML first: a bad configuration plugs nothing.
            xml = self.build_domain(instance, network_info)
            validated = validate_domain(xml)
            for vif in network_info:
                self.vifs.driver_for(vif).plug(instance, vif)
                plugged.append(vif)
            flags = 0
            if CONF.libvirt.define_validate or not validated:
                flags = libvirt.VIR_DOMAIN_DEFINE_VALIDATE
            domain = self.connection.defineXMLFlags(xml, flags)
            domain.create()
            with open(os.path.join(directory, "libvirt.xml"), "w", encoding="utf-8") as handle:
                handle.write(xml)
        except Exception as exc:
            LOG.warning("Spawning %s failed (%s); cleaning up", instance.uuid, exc)
            self._cleanup(instance, domain, plugged, directory)
            if isinstance(exc, exception.NovaException):
                raise
            if isinstance(exc, libvirt.libvirtError):
                raise InstanceSpawnError(
                    instance_uuid=instance.uuid, reason=exc.get_error_message()
                ) from exc
            raise
        LOG.debug("Instance %s started as %s", instance.uuid, vif_drivers.instance_name(instance))

    def _cleanup(self, instance, domain, plugged, directory) -> None:
        if domain is not None:
            try:
                if domain.isActive():
                    domain.destroy()
                domain.undefine()
            except libvirt.libvirtError:
                LOG.exception("Could not remove domain of %s", instance.uuid)
        for vif in reversed(plugged):
            try:
                self.vifs.driver_for(vif).unplug(instance, vif)
            except exception.NovaException:
                LOG.exception("Could not unplug VIF %s", vif.id)
        shutil.rmtree(directory, ignore_errors=True)

    def destroy(self, instance, network_info):
        """Stop and undefine the domain, unplug its VIFs, remove its directory."""
        self._cleanup(
            instance, self._lookup(instance.uuid), list(network_info), self.instance_dir(instance)
        )
        LOG.info("Instance %s destroyed", instance.uuid)

    def list_instance_uuids(self):
        """Return the uuids of Nova's domains (named ``instance-*``) on this host."""
        return [
            domain.UUIDString()
            for domain in self.connection.listAllDomains()
            if domain.name().startswith("instance-")
        ]

    def get_available_resource(self):
        # [arch, memory MiB, cpus, MHz, NUMA nodes, sockets per node, cores, threads]
        info = self.connection.getInfo()
        os.makedirs(CONF.state_path, exist_ok=True)
        disk = shutil.disk_usage(CONF.state_path)
        return driver.HostResources(
            vcpus=info[2],
            memory_mb=info[1],
            local_gb=disk.total // 1024**3,
            hypervisor_type=self.connection.getType(),
            hypervisor_version=self.connection.getVersion(),
            cpu_info=json.dumps(
                {
                    "arch": info[0],
                    "topology": {
                        "sockets": info[4] * info[5],
                        "cores": info[6],
                        "threads": info[7],
                    },
                }
            ),
        )
