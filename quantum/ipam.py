"""A network's subnet and its ports' fixed IPs: checks, choices and the L3 configuration keys.

A reference-Quantum network may carry one subnet (an extension attribute of
Quantum v1.1's network): a CIDR (IPv4 or IPv6), a gateway inside it or none,
DHCP on or off, and the address the network's DHCP server answers from,
chosen here when DHCP is on. Each port of such a network holds one fixed IP.
An address is usable for a port when it is inside the CIDR, is neither the
network's address nor (IPv4) its broadcast address, and is neither the
gateway nor the DHCP server. Messages are Neutron's where Neutron has one.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Collection
from collections.abc import Iterator
from collections.abc import Mapping
from typing import Any
from typing import NamedTuple

from quantum import exceptions

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

#: The port configuration keys this module adds (``l3_configuration``).
CONFIGURATION_KEYS = ("ip_address", "netmask", "prefixlen", "gateway", "dhcp_server", "cidr")


class Subnet(NamedTuple):
    """A network's subnet as stored (``gateway_ip``, ``dhcp_server``: None when it has none)."""

    id: str
    cidr: str
    gateway_ip: str | None
    enable_dhcp: bool
    dhcp_server: str | None

    @property
    def network(self) -> IPNetwork:
        return ipaddress.ip_network(self.cidr)

    def view(self) -> dict[str, Any]:
        """Return the subnet as the network detail shows it."""
        return {
            "cidr": self.cidr,
            "gateway_ip": self.gateway_ip,
            "enable_dhcp": self.enable_dhcp,
            "dhcp_server": self.dhcp_server,
        }


def parse_cidr(value: str) -> IPNetwork:
    """Return ``value`` as a network.

    :raises quantum.exceptions.BadRequest: not a CIDR, host bits set, or no
        address a port could hold (IPv4 /31 and /32, IPv6 /127 and /128).
    """
    try:
        loose = ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise exceptions.BadRequest(reason=f"'{value}' is not a valid IP subnet") from None
    if "/" not in value or str(loose) != value:
        raise exceptions.BadRequest(
            reason=f"'{value}' isn't a recognized IP subnet cidr, '{loose}' is recommended"
        )
    if loose.max_prefixlen - loose.prefixlen < 2:
        raise exceptions.BadRequest(reason=f"subnet {value} has no address for a port")
    return loose


def parse_address(value: str) -> Address:
    """Return ``value`` as an IP address.

    :raises quantum.exceptions.BadRequest: it is not one.
    """
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        raise exceptions.BadRequest(reason=f"'{value}' is not a valid IP address") from None


def _reserved_by_network(network: IPNetwork, address: Address) -> bool:
    """Whether ``address`` is the network's own address or (IPv4) its broadcast address."""
    if address == network.network_address:
        return True
    return network.version == 4 and address == network.broadcast_address


def _hosts(network: IPNetwork) -> Iterator[Address]:
    """Yield the network's addresses a host may have, lowest first (lazily: IPv6 is large)."""
    first = int(network.network_address) + 1
    last = int(network.broadcast_address) - (1 if network.version == 4 else 0)
    kind = type(network.network_address)
    for number in range(first, last + 1):
        yield kind(number)


def check_gateway(network: IPNetwork, gateway: str) -> Address:
    """Return ``gateway`` as an address of ``network``.

    :raises quantum.exceptions.BadRequest: not an address, outside the CIDR,
        or its network or broadcast address.
    """
    address = parse_address(gateway)
    if address not in network or _reserved_by_network(network, address):
        raise exceptions.BadRequest(reason=f"gateway {gateway} is not valid on subnet {network}")
    return address


def make_subnet(subnet_id: str, values: Mapping[str, Any], held: Collection[str] = ()) -> Subnet:
    """Return the subnet a create or update body asks for, ``dhcp_server`` chosen.

    ``gateway_ip`` absent is the first host address (as Neutron); null, no
    gateway. With DHCP on, the DHCP server is the lowest usable address
    other than the gateway that no port holds (``held``).

    :raises quantum.exceptions.BadRequest: a bad CIDR or gateway.
    :raises quantum.exceptions.IpAddressGenerationFailure: no address left for
        the DHCP server.
    """
    network = parse_cidr(values["cidr"])
    if "gateway_ip" in values:
        gateway = values["gateway_ip"]
        gateway = None if gateway is None else str(check_gateway(network, gateway))
    else:
        gateway = str(network.network_address + 1)
    enable_dhcp = values.get("enable_dhcp", True)
    dhcp_server = None
    if enable_dhcp:
        taken = set(held) | ({gateway} if gateway else set())
        dhcp_server = next((str(a) for a in _hosts(network) if str(a) not in taken), None)
        if dhcp_server is None:
            raise exceptions.IpAddressGenerationFailure(net_id=subnet_id)
    return Subnet(subnet_id, str(network), gateway, bool(enable_dhcp), dhcp_server)


def check_requested(net_id: str, subnet: Subnet, requested: str, held: Collection[str]) -> str:
    """Return a requested fixed IP in its normal form, if a port may hold it.

    :raises quantum.exceptions.InvalidIpForNetwork: not an address of the CIDR.
    :raises quantum.exceptions.InvalidIpForSubnet: the network or broadcast address.
    :raises quantum.exceptions.IpAddressInUse: the gateway, the DHCP server,
        or held by another port (``held``).
    """
    try:
        address = ipaddress.ip_address(requested)
    except ValueError:
        raise exceptions.InvalidIpForNetwork(ip_address=requested) from None
    network = subnet.network
    if address not in network:
        raise exceptions.InvalidIpForNetwork(ip_address=requested)
    if _reserved_by_network(network, address):
        raise exceptions.InvalidIpForSubnet(ip_address=requested)
    text = str(address)
    if text in (subnet.gateway_ip, subnet.dhcp_server) or text in held:
        raise exceptions.IpAddressInUse(net_id=net_id, ip_address=text)
    return text


def free_addresses(subnet: Subnet, held: Collection[str]) -> Iterator[str]:
    """Yield the addresses a new port may get, lowest first."""
    reserved = {subnet.gateway_ip, subnet.dhcp_server}
    for address in _hosts(subnet.network):
        text = str(address)
        if text not in reserved and text not in held:
            yield text


def l3_configuration(subnet: Subnet | None, fixed_ip: str | None) -> dict[str, str]:
    """Return a port's L3 configuration keys (none without a subnet or a fixed IP).

    ``gateway`` and ``dhcp_server`` are left out when the subnet has none.
    """
    if subnet is None or fixed_ip is None:
        return {}
    network = subnet.network
    keys = {
        "ip_address": fixed_ip,
        "netmask": str(network.netmask),
        "prefixlen": str(network.prefixlen),
        "cidr": subnet.cidr,
    }
    if subnet.gateway_ip:
        keys["gateway"] = subnet.gateway_ip
    if subnet.dhcp_server:
        keys["dhcp_server"] = subnet.dhcp_server
    return keys
