"""What compute needs to know about an instance's NICs (the network info).

A backend turns its own view (a Quantum port, a Neutron port binding, a
legacy network and fixed IP) into these objects; the VIF drivers consume
them without knowing which backend made them.
"""

from __future__ import annotations

import dataclasses
import ipaddress

#: Configuration key naming the VIF driver that builds the interface.
VIF_TYPE = "vif_type"

VIF_TYPE_BRIDGE = "bridge"
VIF_TYPE_ETHERNET = "ethernet"
VIF_TYPE_OVS = "ovs"
VIF_TYPE_802_QBH = "802.1qbh"
VIF_TYPE_802_QBG = "802.1qbg"
VIF_TYPE_VHOSTUSER = "vhostuser"


@dataclasses.dataclass(frozen=True)
class RequestedNetwork:
    """One entry of a server create's ``networks``: a network, a port, or both empty."""

    network_id: str | None = None
    port_id: str | None = None
    fixed_ip: str | None = None


@dataclasses.dataclass(frozen=True)
class Network:
    """The L2/L3 network a VIF is on, as far as compute cares.

    ``id`` is the network's uuid (a Nova network's ``uuid`` column, or the
    external service's network id). The L3 fields are set by the legacy
    backend, where compute builds the bridge and the ``nwfilter`` parameters
    (DHCP server = gateway, PROJNET/PROJMASK from the CIDR). The quantum
    backend leaves them None (they would ask for the legacy ``nwfilter``):
    a Quantum port's subnet is in its ``configuration`` keys (``ip_address``,
    ``netmask``, ``prefixlen``, ``cidr``, ``gateway``, ``dhcp_server``) and
    its address in ``VIF.fixed_ips``.
    """

    id: str
    label: str | None = None
    bridge: str | None = None
    bridge_interface: str | None = None
    vlan: int | None = None
    cidr: str | None = None
    gateway: str | None = None

    @property
    def netmask(self) -> str | None:
        """Return the dotted netmask of ``cidr`` (PROJMASK)."""
        return str(ipaddress.ip_network(self.cidr).netmask) if self.cidr else None

    @property
    def network_address(self) -> str | None:
        """Return the network address of ``cidr`` (PROJNET)."""
        return str(ipaddress.ip_network(self.cidr).network_address) if self.cidr else None


@dataclasses.dataclass(frozen=True)
class VIF:
    """One NIC of an instance, with everything a VIF driver needs.

    ``configuration`` is the port's flat key/value configuration (the
    Quantum proposal); ``configuration["vif_type"]`` picks the driver.
    """

    id: str
    address: str
    network: Network
    fixed_ips: tuple[str, ...] = ()
    port_id: str | None = None
    configuration: dict[str, str] = dataclasses.field(default_factory=dict)
    preserve_on_delete: bool = False

    @property
    def vif_type(self) -> str | None:
        """Return the configuration's ``vif_type``, or None when it has none."""
        return self.configuration.get(VIF_TYPE)


NetworkInfo = list[VIF]


@dataclasses.dataclass(frozen=True)
class Interface:
    """A port of an instance as ``os-interface`` shows it (Nova's ``interfaceAttachment``).

    ``fixed_ips`` holds ``(subnet id or None, address)`` pairs.
    """

    port_id: str
    net_id: str | None
    mac_addr: str
    port_state: str | None
    fixed_ips: tuple[tuple[str | None, str], ...] = ()


#: ``(network label, address, MAC)``: one fixed address of a server's view.
Address = tuple[str, str, str]
