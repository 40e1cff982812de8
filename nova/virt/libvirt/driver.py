"""The libvirt compute driver: domain XML from the instance and its VIFs.

For each VIF the driver chosen by its port configuration plugs the host side
and builds the ``<interface>``; the domain is validated against libvirt's
RelaxNG schema, defined (libvirt validates again if ``[libvirt]
define_validate`` says so, or if the schema is not installed here) and
started on ``[libvirt] connection_uri``, and the XML it defined is kept in
``$state_path/instances/<uuid>/libvirt.xml``.

A real guest (``virt_type`` qemu or kvm) with an image service configured
boots from its image (``nova.image.api``): directly from the kernel and
ramdisk its ``kernel_id``/``ramdisk_id`` properties name (with
``os_command_line``), and with the image as its disk, a qcow2 overlay
(``disk``) on the host's cached copy. Its serial console is logged to
``console.log`` in the instance directory (``get_console_output``), and a
config drive (``disk.config``, ``nova.virt.configdrive``) is attached as a
read-only virtio disk when the server asked for one or ``[DEFAULT]
force_config_drive`` is set. The test driver's guests keep a sparse raw disk.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import os
import shutil
import subprocess
import threading
import time

import jinja2
import libvirt
from lxml import etree

import nova.conf
from nova import exception
from nova.image import api as image_api
from nova.network import model
from nova.virt import configdrive
from nova.virt import driver
from nova.virt.libvirt import config
from nova.virt.libvirt import host_net
from nova.virt.libvirt import vif as vif_drivers

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)

SCHEMA = "/usr/share/libvirt/schemas/domain.rng"
#: The most of a console log ``get_console_output`` reads (its end), as Nova.
MAX_CONSOLE_BYTES = 100 * 1024
CONSOLE_LOG = "console.log"
CONFIG_DRIVE = "disk.config"
#: Image disk formats that are a raw disk (an AMI is one).
_RAW_FORMATS = {"raw", "ami", "iso", None}
#: Hot-plug changes the running guest and its persistent definition.
_LIVE_AND_CONFIG = libvirt.VIR_DOMAIN_AFFECT_LIVE | libvirt.VIR_DOMAIN_AFFECT_CONFIG
#: Seconds a detach waits for the guest to release the NIC.
DETACH_TIMEOUT = 20.0


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


def wants_config_drive(instance) -> bool:
    """Return whether ``instance`` gets a config drive (its request, or ``force_config_drive``)."""
    requested = str(getattr(instance, "config_drive", None) or "").lower()
    return CONF.force_config_drive or requested in ("true", "1", "yes", "on")


@dataclasses.dataclass
class BootFiles:
    """What a guest boots from: its disk and, for a direct kernel boot, kernel and initrd."""

    disk: str
    disk_format: str = "raw"
    kernel: str | None = None
    initrd: str | None = None
    cmdline: str | None = None
    config_drive: str | None = None


class LibvirtDriver(driver.ComputeDriver):
    """Guests on one libvirt connection."""

    def __init__(
        self,
        uri: str | None = None,
        host: host_net.HostNetwork | None = None,
        images: image_api.API | None = None,
    ):
        self.uri = uri or CONF.libvirt.connection_uri
        self.images = images or image_api.API()
        if host is None and CONF.libvirt.plug_vifs:
            host = host_net.HostNetwork(CONF.libvirt.plug_netns)
        self.vifs = vif_drivers.VIFDriverSelector(
            CONF.libvirt.vif_driver,
            host=host,
            template=CONF.libvirt.vif_template,
            libvirt_taps=_virt_type(self.uri) != "test",
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

    def build_domain(
        self, instance, network_info: model.NetworkInfo, boot: BootFiles | None = None
    ) -> str:
        """Return the domain XML of ``instance`` with its disks, interfaces and console."""
        directory = self.instance_dir(instance)
        if boot is None:
            boot = BootFiles(disk=os.path.join(directory, "disk"))
        devices: list[config.ConfigObject] = [
            config.GuestDisk(source_path=boot.disk, driver_type=boot.disk_format)
        ]
        if boot.config_drive:
            devices.append(
                config.GuestDisk(
                    source_path=boot.config_drive,
                    target_dev="vdb",
                    readonly=True,
                    serial=configdrive.VOLUME_LABEL,
                )
            )
        devices += self.build_interfaces(instance, network_info)
        console = os.path.join(directory, CONSOLE_LOG)
        devices += [
            config.GuestSerial(source_path=console),
            config.GuestConsole(source_path=console),
        ]
        if CONF.libvirt.xml_template:
            return self._from_template(instance, devices)
        guest = config.Guest(
            virt_type=_virt_type(self.uri),
            name=vif_drivers.instance_name(instance),
            uuid=instance.uuid,
            memory_kib=(instance.memory_mb or 512) * 1024,
            vcpus=instance.vcpus or 1,
            kernel=boot.kernel,
            initrd=boot.initrd,
            cmdline=boot.cmdline,
            features=["acpi", "apic"],
            metadata={
                "name": instance.display_name or "",
                "image": instance.image_ref or "",
            },
            devices=devices,
        )
        return guest.to_xml()

    # --- the guest's files -----------------------------------------------------------------

    def _boot_files(self, context, instance, network_info, metadata) -> BootFiles:
        """Make the instance directory's disk (and config drive); fetch what the image needs."""
        directory = self.instance_dir(instance)
        os.makedirs(directory, exist_ok=True)
        disk = os.path.join(directory, "disk")
        boot = BootFiles(disk=disk)
        real = _virt_type(self.uri) != "test"
        if real and instance.image_ref and self.images.is_configured():
            image = self.images.show(context, instance.image_ref)
            if image.get("disk_format") not in _RAW_FORMATS | {"qcow2"}:
                raise exception.Invalid(
                    reason=f"image {instance.image_ref} has disk_format "
                    f"{image.get('disk_format')!r}, not a disk libvirt boots"
                )
            base = self.images.fetch(context, instance.image_ref)
            backing_format = "qcow2" if image.get("disk_format") == "qcow2" else "raw"
            # The image stays in the host's cache; the guest writes to its overlay,
            # of the flavor's root size (root_gb 0: the image's own size, as Nova).
            sized = [str(instance.root_gb * 1024**3)] if instance.root_gb else []
            _qemu_img("create", "-q", "-f", "qcow2", "-F", backing_format, "-b", base, disk, *sized)
            boot.disk_format = "qcow2"
            if image.get("kernel_id"):
                boot.kernel = self.images.fetch(context, image["kernel_id"])
                if image.get("ramdisk_id"):
                    boot.initrd = self.images.fetch(context, image["ramdisk_id"])
                boot.cmdline = image.get("os_command_line") or None
        else:
            with open(disk, "ab") as handle:
                handle.truncate((instance.root_gb or 1) * 1024**3)  # sparse
        if wants_config_drive(instance):
            boot.config_drive = os.path.join(directory, CONFIG_DRIVE)
            configdrive.ConfigDrive.for_instance(instance, network_info, metadata).write(
                boot.config_drive
            )
        return boot

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

    def spawn(self, instance, network_info, context=None, metadata=None):
        """Fetch, plug, build, validate, define and start; undo all of it on failure."""
        directory = self.instance_dir(instance)
        plugged: list[model.VIF] = []
        domain = None
        try:
            boot = self._boot_files(context, instance, network_info, metadata or {})
            # Build and check the XML first: a bad configuration plugs nothing.
            xml = self.build_domain(instance, network_info, boot)
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

    def get_host_uptime(self) -> str:
        """Return what ``uptime`` prints on this host (as Nova's libvirt driver does)."""
        done = subprocess.run(
            ["uptime"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
            env={**os.environ, "LANG": "C", "LC_ALL": "C"},
        )
        return done.stdout.strip()

    def get_console_output(self, instance) -> str:
        """Return the end of the guest's console log (lines end with ``\\n``).

        :raises nova.exception.InstanceNotFound: this host has no such guest.
        :raises nova.exception.ConsoleNotAvailable: the guest has no console logged to a file.
        """
        domain = self._lookup(instance.uuid)
        if domain is None:
            raise exception.InstanceNotFound(instance_id=instance.uuid)
        root = etree.fromstring(domain.XMLDesc(0).encode())
        source = root.find("./devices/console[@type='file']/source")
        if source is None:
            source = root.find("./devices/serial[@type='file']/source")
        path = source.get("path") if source is not None else None
        if not path:
            raise exception.ConsoleNotAvailable(instance_id=instance.uuid)
        try:
            with open(path, "rb") as handle:
                handle.seek(0, os.SEEK_END)
                handle.seek(max(0, handle.tell() - MAX_CONSOLE_BYTES))
                data = handle.read()
        except FileNotFoundError:
            return ""  # the guest has written nothing yet
        # A serial port ends its lines with \r\n.
        return data.decode("utf-8", "replace").replace("\r\n", "\n")

    # --- hot-plug ------------------------------------------------------------------------

    def attach_interface(self, instance, vif):
        """Plug the VIF, then attach its ``<interface>`` live and to the definition.

        The same VIF driver as at spawn builds the element; if libvirt refuses
        it, the VIF is unplugged again. (The test driver's domain is redefined
        instead: ``_redefine``.)
        """
        domain = self._lookup(instance.uuid)
        if domain is None:
            raise exception.InstanceNotFound(instance_id=instance.uuid)
        vif_driver = self.vifs.driver_for(vif)
        xml = vif_driver.get_config(instance, vif).to_xml()
        vif_driver.plug(instance, vif)
        try:
            if self._is_test:
                self._redefine(domain, add=xml)
            else:
                domain.attachDeviceFlags(xml, _LIVE_AND_CONFIG)
        except libvirt.libvirtError as exc:
            LOG.warning("Attaching VIF %s to %s failed: %s", vif.id, instance.uuid, exc)
            try:
                vif_driver.unplug(instance, vif)
            except exception.NovaException:
                LOG.exception("Could not unplug VIF %s", vif.id)
            raise exception.InterfaceAttachFailed(
                instance_uuid=instance.uuid, reason=exc.get_error_message()
            ) from exc
        LOG.info("Attached VIF %s (%s) to %s", vif.id, vif.address, instance.uuid)

    def detach_interface(self, instance, vif):
        """Detach the ``<interface>`` of the VIF's MAC live and from the definition; unplug.

        (The test driver's domain is redefined instead: ``_redefine``.)

        A real guest confirms an unplug asynchronously: the live definition
        is polled until the NIC is gone (``DETACH_TIMEOUT`` seconds).
        """
        domain = self._lookup(instance.uuid)
        if domain is not None:
            element = _interface_of(domain, vif.address)
            if element is not None:
                try:
                    if self._is_test:
                        self._redefine(domain, remove=vif.address)
                    else:
                        domain.detachDeviceFlags(element, _LIVE_AND_CONFIG)
                except libvirt.libvirtError as exc:
                    if _interface_of(domain, vif.address) is not None:
                        raise exception.InterfaceDetachFailed(
                            instance_uuid=instance.uuid, reason=exc.get_error_message()
                        ) from exc
                deadline = time.monotonic() + DETACH_TIMEOUT
                while _interface_of(domain, vif.address) is not None:
                    if time.monotonic() > deadline:
                        raise exception.InterfaceDetachFailed(
                            instance_uuid=instance.uuid,
                            reason=f"the guest did not release NIC {vif.address} "
                            f"in {DETACH_TIMEOUT} s",
                        )
                    time.sleep(0.2)
        self.vifs.driver_for(vif).unplug(instance, vif)
        LOG.info("Detached VIF %s (%s) from %s", vif.id, vif.address, instance.uuid)

    @property
    def _is_test(self) -> bool:
        return _virt_type(self.uri) == "test"

    def _redefine(self, domain, add: str | None = None, remove: str | None = None) -> None:
        """The test driver's hot-plug: libvirt's test driver (9.0) has no attach/detach
        device, so its (pretend) guest is redefined with the NIC added or removed and
        restarted, which changes the live and the persistent definition alike."""
        root = etree.fromstring(domain.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE).encode())
        devices = root.find("devices")
        if add is not None:
            devices.append(etree.fromstring(add.encode()))
        if remove is not None:
            for element in list(devices.iterfind("interface")):
                mac = element.find("mac")
                if mac is not None and (mac.get("address") or "").lower() == remove.lower():
                    devices.remove(element)
        running = domain.isActive()
        if running:
            domain.destroy()
        domain = self.connection.defineXML(etree.tostring(root, encoding="unicode"))
        if running:
            domain.create()

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


def _interface_of(domain: libvirt.virDomain, mac: str) -> str | None:
    """Return the live ``<interface>`` element (XML) with MAC ``mac``, or None."""
    root = etree.fromstring(domain.XMLDesc(0).encode())
    for element in root.iterfind("./devices/interface"):
        address = element.find("mac")
        if address is not None and (address.get("address") or "").lower() == mac.lower():
            return etree.tostring(element, encoding="unicode")
    return None


def _qemu_img(*args: str) -> None:
    """Run ``qemu-img`` with ``args``.

    :raises InstanceSpawnError: it failed (its message says why).
    """
    try:
        subprocess.run(["qemu-img", *args], check=True, capture_output=True, text=True)
    except FileNotFoundError as exc:
        raise exception.NovaException(
            message="qemu-img is not installed (Debian: qemu-utils)"
        ) from exc
    except subprocess.CalledProcessError as exc:
        raise exception.NovaException(
            message=f"qemu-img {args[0]} failed: {exc.stderr.strip()}"
        ) from exc
