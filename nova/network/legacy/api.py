"""nova-network's flat and VLAN managers behind the ``NetworkAPI`` interface.

``[network] legacy_manager`` picks which networks a project may use:

* ``flat``: the networks that belong to no project, shared by every project;
* ``vlan``: the project's own networks (each with its VLAN, bridge and VLAN
  interface). A project without one is given the free VLAN network with the
  lowest VLAN id on its first allocation.

Each NIC is a ``virtual_interfaces`` row with the network's ``network_id``
and one fixed IP linked to it (``fixed_ips.virtual_interface_id``). The
module also holds what ``nova-manage network`` does: create (with input
checks and the network's fixed IP rows), list and delete.
"""

from __future__ import annotations

import collections
import dataclasses
import ipaddress
import logging
from collections.abc import Sequence

import nova.conf
from nova import context as nova_context
from nova import exception
from nova.db import networks as legacy_db
from nova.db import records
from nova.db import virtual_interfaces as vif_db
from nova.network import api as network_api
from nova.network import model

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)

MANAGER_FLAT = "flat"
MANAGER_VLAN = "vlan"

#: A network needs its network, gateway and broadcast addresses plus one.
MIN_NETWORK_ADDRESSES = 4
#: One fixed IP row is written per address; a /16 is the largest network.
MAX_NETWORK_ADDRESSES = 65536
#: Linux interface names (bridges, VLAN interfaces) are at most 15 bytes.
MAX_INTERFACE_NAME = 15
MAX_VLAN = 4094


@dataclasses.dataclass(frozen=True)
class _Allocation:
    """One NIC to create: its network and, when requested, its address."""

    network: records.Network
    fixed_ip: str | None = None


class LegacyAPI(network_api.NetworkAPI):
    """Nova's own networks and fixed IPs (nova-network), flat or VLAN."""

    def __init__(self, manager: str | None = None) -> None:
        self.manager = manager or CONF.network.legacy_manager

    # --- which networks a project may use ------------------------------------

    def _project_networks(
        self, context: nova_context.RequestContext, project_id: str | None
    ) -> list[records.Network]:
        if self.manager == MANAGER_FLAT:
            return legacy_db.network_get_all_by_project(context, None)
        if project_id is None:
            return []
        return legacy_db.network_get_all_by_project(context, project_id)

    def _may_use(self, network: records.Network, project_id: str | None) -> bool:
        if self.manager == MANAGER_FLAT:
            return network.project_id is None
        return project_id is not None and network.project_id == project_id

    def _free_vlan_network_exists(self, context: nova_context.RequestContext) -> bool:
        shared = legacy_db.network_get_all_by_project(context, None)
        return any(network.vlan is not None for network in shared)

    def _plan(
        self,
        context: nova_context.RequestContext,
        project_id: str | None,
        requested: Sequence[model.RequestedNetwork] | None,
        max_count: int = 1,
    ) -> list[_Allocation]:
        """Check ``requested`` and return the NICs to create; writes nothing.

        An empty plan for a default request in VLAN mode means "associate a
        free VLAN network first".
        """
        if requested is None:
            networks = self._project_networks(context, project_id)
            if not networks and not (
                self.manager == MANAGER_VLAN
                and project_id is not None
                and self._free_vlan_network_exists(context)
            ):
                raise exception.Invalid(
                    reason=f"no legacy ({self.manager}) network is available "
                    f"to project {project_id}"
                )
            return [_Allocation(network) for network in networks]

        plan = []
        seen = set()
        for index, entry in enumerate(requested):
            if entry.port_id:
                raise exception.Invalid(
                    reason=f"networks[{index}]: port_id {entry.port_id} cannot be used: "
                    "the legacy network backend has no ports; request a network uuid "
                    "(and optionally a fixed_ip) instead"
                )
            if not entry.network_id:
                raise exception.Invalid(reason=f"networks[{index}]: a network uuid is required")
            if entry.network_id in seen:
                raise exception.Invalid(
                    reason=f"network {entry.network_id} is requested more than once"
                )
            seen.add(entry.network_id)
            network = legacy_db.network_get_by_uuid(context, entry.network_id)
            if not self._may_use(network, project_id):
                # A network of another project is not shown to exist.
                raise exception.NetworkNotFound(network_id=entry.network_id)
            if entry.fixed_ip is not None:
                self._check_fixed_ip(context, network, entry.fixed_ip, max_count)
            plan.append(_Allocation(network, entry.fixed_ip))
        return plan

    def _check_fixed_ip(
        self,
        context: nova_context.RequestContext,
        network: records.Network,
        address: str,
        max_count: int,
    ) -> None:
        try:
            ip = ipaddress.IPv4Address(address)
        except ValueError as exc:
            raise exception.Invalid(reason=f"fixed_ip {address!r} is not an IPv4 address") from exc
        if ip not in ipaddress.IPv4Network(network.cidr):
            raise exception.Invalid(
                reason=f"fixed IP {address} is not in network {network.uuid} ({network.cidr})"
            )
        if max_count > 1:
            raise exception.Invalid(
                reason=f"fixed IP {address} can serve one server only, "
                f"but {max_count} are requested"
            )
        try:
            row = legacy_db.fixed_ip_get_by_address(context, str(ip))
        except exception.NotFound:
            row = None
        if row is None or row.network_id != network.id:
            raise exception.Invalid(
                reason=f"fixed IP {address} is not an address of network {network.uuid}"
            )
        if row.reserved:
            raise exception.Invalid(
                reason=f"fixed IP {address} is reserved (network, gateway or broadcast "
                f"address of {network.cidr})"
            )
        if row.allocated:
            raise exception.FixedIpAlreadyInUse(address=address, network_id=network.uuid)

    # --- NetworkAPI ----------------------------------------------------------

    def validate_networks(
        self,
        context: nova_context.RequestContext,
        requested: Sequence[model.RequestedNetwork] | None,
        max_count: int,
    ) -> None:
        """Check a server create's ``networks`` before anything is written.

        :raises nova.exception.NetworkNotFound: unknown network, or one the
            project may not use.
        :raises nova.exception.FixedIpAlreadyInUse: the requested address
            is allocated.
        :raises nova.exception.Invalid: a port was requested, a network is
            requested twice, the fixed IP is malformed, outside the network
            or reserved, or no network is available.
        """
        self._plan(context, context.project_id, requested, max_count)

    def allocate_for_instance(
        self,
        context: nova_context.RequestContext,
        instance: records.Instance,
        requested: Sequence[model.RequestedNetwork] | None,
    ) -> list[records.VirtualInterface]:
        """Create one VIF with one fixed IP per network, in request order.

        On failure the VIFs and addresses this call created are removed
        before the error is re-raised. A VLAN network associated with the
        project on the way stays the project's (as in nova-network).

        :raises nova.exception.NoMoreFixedIps: a network has no free address.
        :raises nova.exception.FixedIpAlreadyInUse: the requested address
            was taken since validation.
        """
        plan = self._plan(context, instance.project_id, requested)
        if requested is None and not plan:
            network = legacy_db.network_associate(context, network_api.project_of(instance))
            LOG.info("Associated network %s with project %s", network.uuid, instance.project_id)
            plan = [_Allocation(network)]
        created: list[records.VirtualInterface] = []
        try:
            for item in plan:
                vif = vif_db.virtual_interface_create(
                    context, {"instance_id": instance.id, "network_id": item.network.id}
                )
                created.append(vif)
                if item.fixed_ip is None:
                    legacy_db.fixed_ip_associate_pool(
                        context, item.network.id, instance.id, virtual_interface_id=vif.id
                    )
                else:
                    legacy_db.fixed_ip_associate(
                        context,
                        item.fixed_ip,
                        item.network.id,
                        instance.id,
                        virtual_interface_id=vif.id,
                    )
        except Exception:
            self._undo(context, created)
            raise
        return created

    def _undo(
        self, context: nova_context.RequestContext, vifs: Sequence[records.VirtualInterface]
    ) -> None:
        for vif in reversed(vifs):
            try:
                legacy_db.fixed_ip_disassociate_by_virtual_interface(context, vif.id)
                vif_db.virtual_interface_delete(context, vif.id)
            except Exception:  # noqa: BLE001 - the original error is the one to raise
                LOG.exception("Could not undo virtual interface %s", vif.uuid)

    def get_instance_nw_info(
        self, context: nova_context.RequestContext, instance: records.Instance
    ) -> model.NetworkInfo:
        """Return the instance's legacy VIFs in VIF order, with bridge configuration."""
        addresses: dict[int | None, list[str]] = collections.defaultdict(list)
        for fixed_ip in legacy_db.fixed_ip_get_by_instance(context, instance.id):
            addresses[fixed_ip.virtual_interface_id].append(fixed_ip.address)
        networks: dict[int, records.Network] = {}
        info: model.NetworkInfo = []
        for vif in vif_db.virtual_interface_get_by_instance(context, instance.id):
            if vif.network_id is None:
                continue  # a port of an external network service
            if vif.network_id not in networks:
                try:
                    networks[vif.network_id] = legacy_db.network_get(context, vif.network_id)
                except exception.NetworkNotFound:
                    LOG.warning("VIF %s is on deleted network %s", vif.uuid, vif.network_id)
                    continue
            info.append(_vif_model(vif, networks[vif.network_id], addresses[vif.id]))
        return info

    def deallocate_for_instance(
        self, context: nova_context.RequestContext, instance: records.Instance
    ) -> None:
        """Release the instance's fixed IPs and soft-delete its VIFs; repeats are no-ops."""
        released = legacy_db.fixed_ip_disassociate_all_by_instance(context, instance.id)
        deleted = vif_db.virtual_interface_delete_by_instance(context, instance.id)
        LOG.debug(
            "Instance %s: released %d fixed IP(s), deleted %d VIF(s)",
            instance.uuid,
            released,
            deleted,
        )


def _vif_model(
    vif: records.VirtualInterface, network: records.Network, addresses: Sequence[str]
) -> model.VIF:
    configuration = {model.VIF_TYPE: model.VIF_TYPE_BRIDGE}
    if network.bridge:
        configuration["bridge"] = network.bridge
    if network.vlan is not None:
        configuration["vlan"] = str(network.vlan)
    if network.bridge_interface:
        configuration["bridge_interface"] = network.bridge_interface
    return model.VIF(
        id=vif.uuid,
        address=vif.address,
        network=model.Network(
            id=network.uuid,
            label=network.label,
            bridge=network.bridge,
            bridge_interface=network.bridge_interface,
            vlan=network.vlan,
            cidr=network.cidr,
            gateway=network.gateway,
        ),
        fixed_ips=tuple(addresses),
        configuration=configuration,
    )


# --- network management (nova-manage network) ---------------------------------


def _check_interface_name(option: str, name: str) -> None:
    if not name or len(name.encode()) > MAX_INTERFACE_NAME or any(c in name for c in " /\t:"):
        raise exception.Invalid(
            f"Invalid {option} {name!r}: an interface name of 1 to "
            f"{MAX_INTERFACE_NAME} characters without spaces, '/' or ':' is required."
        )


def _parse_cidr(cidr: str) -> ipaddress.IPv4Network:
    if "/" not in cidr:
        raise exception.Invalid(
            f"Invalid CIDR {cidr!r}: a prefix length is required, e.g. 10.0.0.0/24."
        )
    try:
        network = ipaddress.IPv4Network(cidr)
    except ValueError as exc:
        raise exception.Invalid(f"Invalid CIDR {cidr!r}: {exc}.") from exc
    if network.num_addresses < MIN_NETWORK_ADDRESSES:
        raise exception.Invalid(
            f"Network {network} is too small: it needs at least {MIN_NETWORK_ADDRESSES} "
            "addresses (a /30): network, gateway, broadcast and one for instances."
        )
    if network.num_addresses > MAX_NETWORK_ADDRESSES:
        raise exception.Invalid(
            f"Network {network} is too large: at most {MAX_NETWORK_ADDRESSES} addresses "
            "(a /16), one fixed IP row each."
        )
    return network


def _parse_gateway(gateway: str, cidr: ipaddress.IPv4Network) -> str:
    try:
        address = ipaddress.IPv4Address(gateway)
    except ValueError as exc:
        raise exception.Invalid(f"Invalid gateway {gateway!r}: not an IPv4 address.") from exc
    if address not in cidr or address in (cidr.network_address, cidr.broadcast_address):
        raise exception.Invalid(f"Invalid gateway {gateway}: not a host address of {cidr}.")
    return str(address)


def _parse_dns(option: str, server: str) -> str:
    try:
        return str(ipaddress.ip_address(server))
    except ValueError as exc:
        raise exception.Invalid(f"Invalid {option} {server!r}: not an IP address.") from exc


def create_network(
    context: nova_context.RequestContext,
    *,
    label: str,
    cidr: str,
    bridge: str,
    vlan: int | None = None,
    bridge_interface: str | None = None,
    project_id: str | None = None,
    gateway: str | None = None,
    dns1: str | None = None,
    dns2: str | None = None,
) -> records.Network:
    """Check the input and create a network with one fixed IP row per address.

    The gateway defaults to the first host address; the network, gateway and
    broadcast addresses are reserved. Nothing is written when a check fails.

    :raises nova.exception.Invalid: a malformed value, a network smaller
        than a /30 or larger than a /16, a gateway outside the network.
    :raises nova.exception.Conflict: the CIDR overlaps a live network's,
        or the VLAN is used by one.
    """
    if not label or not label.strip():
        raise exception.Invalid("Invalid label: it must not be empty.")
    network = _parse_cidr(cidr)
    _check_interface_name("bridge", bridge)
    if bridge_interface is not None:
        _check_interface_name("bridge_interface", bridge_interface)
    if vlan is not None and not 1 <= vlan <= MAX_VLAN:
        raise exception.Invalid(f"Invalid VLAN {vlan}: it must be between 1 and {MAX_VLAN}.")
    values = {
        "label": label,
        "cidr": str(network),
        "bridge": bridge,
        "bridge_interface": bridge_interface,
        "vlan": vlan,
        "project_id": project_id or None,
        "gateway": _parse_gateway(gateway, network) if gateway else None,
        "dns1": _parse_dns("dns1", dns1) if dns1 else None,
        "dns2": _parse_dns("dns2", dns2) if dns2 else None,
    }
    for other in legacy_db.network_get_all(context):
        if other.cidr and ipaddress.ip_network(other.cidr).overlaps(network):
            raise exception.Conflict(
                f"Network {network} overlaps {other.cidr} of network {other.uuid} ({other.label})."
            )
        if vlan is not None and other.vlan == vlan:
            raise exception.Conflict(
                f"VLAN {vlan} is already used by network {other.uuid} ({other.label})."
            )
    created = legacy_db.network_create_with_fixed_ips(context, values)
    LOG.info("Created network %s (%s, %s)", created.uuid, label, created.cidr)
    return created


def list_networks(context: nova_context.RequestContext) -> list[records.Network]:
    """Return every live network, oldest first."""
    return legacy_db.network_get_all(context)


def delete_network(context: nova_context.RequestContext, network_uuid: str) -> None:
    """Delete network ``network_uuid`` and its fixed IPs.

    :raises nova.exception.NetworkNotFound: no such network.
    :raises nova.exception.Conflict: instances still hold its addresses.
    """
    legacy_db.network_delete(context, network_uuid)
