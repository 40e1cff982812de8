"""VIF drivers: one per interface type, each building its ``<interface>`` from
the port's key/value configuration and plugging the host side of it.

``get_driver`` picks the driver: ``[libvirt] vif_driver = auto`` chooses by the
configuration's ``vif_type``; a short name or an import path forces one.
Values from the network service are checked against what libvirt's schema
accepts before they are used, and then only ever reach the XML through lxml,
which escapes them.
"""

from __future__ import annotations

import abc
import ipaddress
import logging
import re
import uuid as uuidlib
from typing import Any
from typing import ClassVar
from typing import Protocol

import jinja2
from lxml import etree

from nova import exception
from nova import utils
from nova.network import model
from nova.virt.libvirt import config
from nova.virt.libvirt import host_net

LOG = logging.getLogger(__name__)

# What libvirt's RelaxNG schema accepts (basictypes.rng, networkcommon.rng).
_DEVICE_NAME = re.compile(r"^[a-zA-Z0-9_.\-:/]{1,15}$")
# The schema allows any 39 characters, but libvirt 9.0 writes profileid back
# without escaping it, so a quote or '<' would corrupt its own XML: refuse them.
_PROFILE_ID = re.compile(r"^[A-Za-z0-9_.:\- ]{1,39}$")


class Instance(Protocol):
    """What a VIF driver needs of an instance (virt does not know the database)."""

    uuid: str
    id: int


def instance_name(instance: Instance) -> str:
    """Return the libvirt domain name of ``instance`` (``instance-0000002a``)."""
    return f"instance-{instance.id:08x}"


def tap_name(vif: model.VIF) -> str:
    """Return the host device of a VIF: ``tap`` + the start of its uuid (14 chars)."""
    return ("tap" + vif.id)[:14]


class VIFConfigurationError(exception.Invalid):
    msg_fmt = "VIF %(vif_id)s: %(reason)s"


class VIFDriver(abc.ABC):
    """Builds one type of ``<interface>`` and plugs its host side.

    :param host: where host devices are made (None: leave them to libvirt,
        ``[libvirt] plug_vifs = false``).
    :param libvirt_taps: libvirt makes the guest's tap itself (a real
        hypervisor: it refuses a tap that exists for ``type='bridge'`` and
        ``'ethernet'``, and removes it with the guest); the host side is then
        only what the tap joins (bridge, VLAN, hybrid-plug bridge and veth).
    """

    #: The configuration ``vif_type`` this driver serves.
    vif_type: ClassVar[str] = ""

    def __init__(
        self, host: host_net.HostNetwork | None = None, libvirt_taps: bool = False
    ) -> None:
        self.host = host
        self.libvirt_taps = libvirt_taps

    # --- reading the configuration ------------------------------------------------

    @staticmethod
    def value(vif: model.VIF, key: str) -> str:
        """Return configuration ``key`` of ``vif``.

        :raises VIFConfigurationError: the key is missing or empty.
        """
        value = vif.configuration.get(key)
        if value in (None, ""):
            raise VIFConfigurationError(
                vif_id=vif.id,
                reason=f"port configuration has no {key!r} (vif_type {vif.vif_type!r} needs it)",
            )
        return value

    def device(self, vif: model.VIF, key: str) -> str:
        """Return configuration ``key`` as a host device name."""
        value = self.value(vif, key)
        if not _DEVICE_NAME.match(value):
            raise VIFConfigurationError(
                vif_id=vif.id, reason=f"{key} {value!r} is not a valid device name"
            )
        return value

    def integer(self, vif: model.VIF, key: str, low: int, high: int) -> str:
        """Return configuration ``key`` as an integer in ``[low, high]``."""
        value = self.value(vif, key)
        if not value.isdigit() or not low <= int(value) <= high:
            raise VIFConfigurationError(
                vif_id=vif.id, reason=f"{key} {value!r} is not an integer from {low} to {high}"
            )
        return str(int(value))

    def uuid(self, vif: model.VIF, key: str) -> str:
        """Return configuration ``key`` as a UUID."""
        value = self.value(vif, key)
        try:
            return str(uuidlib.UUID(value))
        except ValueError as exc:
            raise VIFConfigurationError(
                vif_id=vif.id, reason=f"{key} {value!r} is not a UUID"
            ) from exc

    @staticmethod
    def flag(vif: model.VIF, key: str) -> bool:
        """Return configuration ``key`` as a boolean (absent: False)."""
        return vif.configuration.get(key, "").lower() in ("true", "1", "yes")

    # --- the interface -----------------------------------------------------------------

    def base_config(self, vif: model.VIF, net_type: str) -> config.GuestInterface:
        """Return an interface of ``net_type`` with the VIF's MAC and a virtio model."""
        return config.GuestInterface(net_type=net_type, mac_addr=vif.address, model="virtio")

    @abc.abstractmethod
    def get_config(self, instance: Instance, vif: model.VIF) -> config.ConfigObject:
        """Return the ``<interface>`` of ``vif`` for ``instance``.

        :raises VIFConfigurationError: the configuration lacks a key or holds
            a value libvirt would refuse.
        """

    def plug(self, instance: Instance, vif: model.VIF) -> None:  # noqa: B027
        """Create the host side of ``vif`` (by default libvirt makes it)."""

    def unplug(self, instance: Instance, vif: model.VIF) -> None:  # noqa: B027
        """Undo ``plug``; what is already gone is fine."""


class BridgeVIFDriver(VIFDriver):
    """A tap on a Linux bridge: legacy networks and the Linux bridge plugin.

    Legacy networks give the ``nwfilter`` parameters (IP, DHCPSERVER,
    PROJNET, PROJMASK); a legacy VLAN network also gets its VLAN interface
    on ``bridge_interface``, enslaved to the bridge.
    """

    vif_type = model.VIF_TYPE_BRIDGE

    def get_config(self, instance, vif):
        interface = self.base_config(vif, "bridge")
        interface.source_bridge = self.device(vif, "bridge")
        interface.target_dev = tap_name(vif)
        network = vif.network
        if network.cidr and network.gateway and vif.fixed_ips:
            interface.filter_name = f"nova-instance-{instance_name(instance)}-" + (
                vif.address.replace(":", "")
            )
            params = [("IP", ip) for ip in vif.fixed_ips]
            params += [
                ("DHCPSERVER", network.gateway),
                ("PROJNET", network.network_address),
                ("PROJMASK", network.netmask),
            ]
            for name, value in params:
                try:
                    ipaddress.ip_address(value)  # only addresses reach the filter
                except ValueError as exc:
                    raise VIFConfigurationError(
                        vif_id=vif.id, reason=f"{name} {value!r} is not an IP address"
                    ) from exc
            interface.filter_params = params
        return interface

    def _vlan(self, vif) -> tuple[int, str] | None:
        vlan = vif.network.vlan or vif.configuration.get("vlan")
        parent = vif.network.bridge_interface or vif.configuration.get("bridge_interface")
        return (int(vlan), parent) if vlan and parent else None

    def plug(self, instance, vif):
        if self.host is None:
            return
        bridge = self.device(vif, "bridge")
        self.host.ensure_bridge(bridge)
        vlan = self._vlan(vif)
        if vlan:
            self.host.ensure_vlan(vlan[0], vlan[1], bridge)
        if not self.libvirt_taps:
            self.host.ensure_tap(tap_name(vif), vif.address, master=bridge)

    def unplug(self, instance, vif):
        if self.host is None:
            return
        bridge = self.device(vif, "bridge")
        self.host.delete_link(tap_name(vif))
        vlan = self._vlan(vif)
        vlan_dev = host_net.vlan_name(*vlan) if vlan else None
        # The bridge (and its VLAN interface) go with their last VIF.
        if not set(self.host.bridge_ports(bridge)) - {vlan_dev}:
            if vlan_dev:
                self.host.delete_link(vlan_dev)
            self.host.delete_link(bridge)


class EthernetVIFDriver(VIFDriver):
    """A bare tap device that the host wires itself (Quantum's tap plugin)."""

    vif_type = model.VIF_TYPE_ETHERNET

    def get_config(self, instance, vif):
        interface = self.base_config(vif, "ethernet")
        interface.target_dev = tap_name(vif)
        return interface

    def plug(self, instance, vif):
        if self.host is not None and not self.libvirt_taps:
            self.host.ensure_tap(tap_name(vif), vif.address)

    def unplug(self, instance, vif):
        if self.host is not None:
            self.host.delete_link(tap_name(vif))


class OpenVSwitchVIFDriver(VIFDriver):
    """A port on the Open vSwitch integration bridge, tagged with the interface-id.

    With ``ovs_hybrid_plug`` the tap sits on a per-VIF Linux bridge joined to
    Open vSwitch by a veth pair (so iptables filtering can apply).
    """

    vif_type = model.VIF_TYPE_OVS

    @staticmethod
    def hybrid_names(vif: model.VIF) -> tuple[str, str, str]:
        """Return the per-VIF bridge and the two veth ends of a hybrid plug."""
        suffix = vif.id[:11]
        return f"qbr{suffix}", f"qvb{suffix}", f"qvo{suffix}"

    def get_config(self, instance, vif):
        bridge = self.device(vif, "bridge")
        if self.flag(vif, "ovs_hybrid_plug"):
            interface = self.base_config(vif, "bridge")
            interface.source_bridge = self.hybrid_names(vif)[0]
        else:
            interface = self.base_config(vif, "bridge")
            interface.source_bridge = bridge
            interface.virtualport_type = "openvswitch"
            interface.virtualport_params = {"interfaceid": vif.id}
        interface.target_dev = tap_name(vif)
        return interface

    def _external_ids(self, instance, vif) -> dict[str, str]:
        return {
            "iface-id": vif.id,
            "iface-status": "active",
            "attached-mac": vif.address,
            "vm-uuid": instance.uuid,
        }

    def plug(self, instance, vif):
        if self.host is None:
            return
        bridge = self.device(vif, "bridge")
        if self.flag(vif, "ovs_hybrid_plug"):
            if not self.host.has_ovs():
                raise VIFConfigurationError(
                    vif_id=vif.id, reason="ovs_hybrid_plug needs ovs-vsctl on this host"
                )
            qbr, qvb, qvo = self.hybrid_names(vif)
            self.host.ensure_bridge(qbr)
            self.host.ensure_veth(qvb, qvo, master=qbr)
            self.host.ovs_add_port(bridge, qvo, self._external_ids(instance, vif))
            if not self.libvirt_taps:
                self.host.ensure_tap(tap_name(vif), vif.address, master=qbr)
        elif self.host.has_ovs() and not self.libvirt_taps:
            self.host.ensure_tap(tap_name(vif), vif.address)
            self.host.ovs_add_port(bridge, tap_name(vif), self._external_ids(instance, vif))
        # Otherwise libvirt's <virtualport> adds the port (and its external_ids) itself.

    def unplug(self, instance, vif):
        if self.host is None:
            return
        bridge = self.device(vif, "bridge")
        if self.flag(vif, "ovs_hybrid_plug"):
            qbr, qvb, qvo = self.hybrid_names(vif)
            self.host.ovs_del_port(bridge, qvo)
            for name in (tap_name(vif), qvb, qbr):
                self.host.delete_link(name)
        elif self.host.has_ovs():
            self.host.ovs_del_port(bridge, tap_name(vif))
            self.host.delete_link(tap_name(vif))


class Qbh8021VIFDriver(VIFDriver):
    """macvtap on a physical NIC with an 802.1Qbh port profile."""

    vif_type = model.VIF_TYPE_802_QBH

    def get_config(self, instance, vif):
        interface = self.base_config(vif, "direct")
        interface.source_dev = self.device(vif, "source_dev")
        interface.source_mode = "private"
        profile = self.value(vif, "profile_id")
        if not _PROFILE_ID.match(profile):
            raise VIFConfigurationError(
                vif_id=vif.id,
                reason=f"profile_id {profile!r} must be 1 to 39 letters, digits, spaces or _.:-",
            )
        interface.virtualport_type = "802.1Qbh"
        interface.virtualport_params = {"profileid": profile}
        return interface


class Qbg8021VIFDriver(VIFDriver):
    """macvtap in VEPA mode with the four 802.1Qbg VSI ids."""

    vif_type = model.VIF_TYPE_802_QBG

    def get_config(self, instance, vif):
        interface = self.base_config(vif, "direct")
        interface.source_dev = self.device(vif, "source_dev")
        interface.source_mode = "vepa"
        interface.virtualport_type = "802.1Qbg"
        interface.virtualport_params = {
            "managerid": self.integer(vif, "managerid", 0, 255),
            "typeid": self.integer(vif, "typeid", 0, 16777215),
            "typeidversion": self.integer(vif, "typeidversion", 0, 255),
            "instanceid": self.uuid(vif, "instanceid"),
        }
        return interface


class VhostUserVIFDriver(VIFDriver):
    """A vhost-user socket shared with a userspace switch (Open vSwitch netdev)."""

    vif_type = model.VIF_TYPE_VHOSTUSER

    def get_config(self, instance, vif):
        path = self.value(vif, "vhostuser_socket")
        if not path.startswith("/") or any(c in path for c in "\0\n"):
            raise VIFConfigurationError(
                vif_id=vif.id, reason=f"vhostuser_socket {path!r} is not an absolute path"
            )
        mode = vif.configuration.get("vhostuser_mode", "server")
        if mode not in ("server", "client"):
            raise VIFConfigurationError(
                vif_id=vif.id, reason=f"vhostuser_mode {mode!r} is not server or client"
            )
        interface = self.base_config(vif, "vhostuser")
        interface.source_type = "unix"
        interface.source_mode = mode
        interface.source_path = path
        return interface


class RawInterface(config.ConfigObject):
    """An ``<interface>`` element made elsewhere (the template driver)."""

    root_name = "interface"

    def __init__(self, element: etree._Element) -> None:
        self.element = element

    def format_dom(self) -> etree._Element:
        return etree.fromstring(etree.tostring(self.element))


class TemplateVIFDriver(VIFDriver):
    """Renders an operator's ``<interface>`` template with the port's configuration.

    The generic mechanism of the proposal: Nova passes keys it does not
    understand straight to the template. Variables: every configuration key,
    ``configuration`` (the whole map), ``mac``, ``vif_id``, ``port_id``,
    ``network_id``, ``instance_uuid``, ``instance_name``, ``tap``. Values are
    escaped for XML (autoescape); the result must be one ``<interface>``.
    """

    vif_type = "template"
    _PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)

    def __init__(self, host=None, template: str | None = None) -> None:
        super().__init__(host)
        if not template:
            raise exception.Invalid(reason="the template VIF driver needs [libvirt] vif_template")
        with open(template, encoding="utf-8") as handle:
            source = handle.read()
        environment = jinja2.Environment(
            autoescape=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=False
        )
        self.template = environment.from_string(source)
        self.path = template

    def get_config(self, instance, vif):
        variables: dict[str, Any] = {
            key: value for key, value in vif.configuration.items() if key.isidentifier()
        }
        variables.update(
            configuration=dict(vif.configuration),
            mac=vif.address,
            vif_id=vif.id,
            port_id=vif.port_id or "",
            network_id=vif.network.id,
            instance_uuid=instance.uuid,
            instance_name=instance_name(instance),
            tap=tap_name(vif),
        )
        try:
            rendered = self.template.render(**variables)
        except jinja2.UndefinedError as exc:
            raise VIFConfigurationError(
                vif_id=vif.id, reason=f"template {self.path} uses a missing key: {exc.message}"
            ) from exc
        try:
            element = etree.fromstring(rendered.strip().encode(), self._PARSER)
        except etree.XMLSyntaxError as exc:
            raise VIFConfigurationError(
                vif_id=vif.id, reason=f"template {self.path} does not render XML: {exc}"
            ) from exc
        if element.tag != "interface" or element.getroottree().docinfo.doctype:
            raise VIFConfigurationError(
                vif_id=vif.id, reason=f"template {self.path} must render one <interface>"
            )
        return RawInterface(element)


#: Entry-point group of the VIF drivers (``setup.py``): each one's ``vif_type``,
#: plus ``tap`` (another name of ``ethernet``).
NAMESPACE = "nova.virt.libvirt.vif_drivers"


class VIFDriverSelector:
    """Picks (and caches) the driver of each VIF per ``[libvirt] vif_driver``."""

    def __init__(
        self,
        choice: str = "auto",
        host: host_net.HostNetwork | None = None,
        template: str | None = None,
        libvirt_taps: bool = False,
    ) -> None:
        self.choice = choice
        self.host = host
        self.template = template
        self.libvirt_taps = libvirt_taps
        self._drivers: dict[type[VIFDriver], VIFDriver] = {}
        self._forced = None if choice == "auto" else self._resolve(choice)

    @staticmethod
    def _resolve(name: str) -> type[VIFDriver]:
        """Return the driver the operator named (alias or import path).

        :raises nova.exception.PluginNotFound: no such VIF driver.
        """
        return utils.load_plugin(NAMESPACE, name, VIFDriver)

    def _instance(self, driver_class: type[VIFDriver]) -> VIFDriver:
        if driver_class not in self._drivers:
            if issubclass(driver_class, TemplateVIFDriver):
                self._drivers[driver_class] = driver_class(self.host, self.template)
            else:
                self._drivers[driver_class] = driver_class(self.host, self.libvirt_taps)
        return self._drivers[driver_class]

    def driver_for(self, vif: model.VIF) -> VIFDriver:
        """Return the driver of ``vif``.

        :raises VIFConfigurationError: no ``vif_type``, or one no driver serves.
        """
        if self._forced is not None:
            return self._instance(self._forced)
        vif_type = vif.vif_type
        if not vif_type:
            raise VIFConfigurationError(vif_id=vif.id, reason="port configuration has no vif_type")
        try:
            # Aliases only: vif_type comes from the network service, not the operator.
            driver_class = utils.load_plugin(NAMESPACE, vif_type, VIFDriver, import_path=False)
        except exception.PluginNotFound:
            driver_class = None
        if driver_class is None or issubclass(driver_class, TemplateVIFDriver):
            known = [name for name in utils.plugin_names(NAMESPACE) if name != "template"]
            raise VIFConfigurationError(
                vif_id=vif.id,
                reason=f"no VIF driver for vif_type {vif_type!r} (known: {', '.join(known)})",
            )
        return self._instance(driver_class)
