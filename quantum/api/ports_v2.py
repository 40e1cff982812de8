"""A read-only Neutron v2.0 view of the tenant's ports: ``GET /v2.0/ports[/{id}]``.

Clients written for Neutron look a port up by id before they hand it to
Nova (python-openstackclient's ``server create --nic port-id=…`` calls
openstacksdk's ``find_port``: ``GET /v2.0/ports/{id}``, then on a 404
``GET /v2.0/ports?name=…``). This view answers those reads with the
Quantum ports the caller's tenant owns, under Neutron's field names. It
writes nothing (other methods are 405) and shows only what Quantum knows:
ports have no name (``name`` ""), ``fixed_ips`` is the port's fixed IP on its
network's subnet (``[]`` without one; the ``subnet_id`` is the subnet's), an
attachment is a VIF id, not a server (``device_id`` ""), and no MAC is
known (no ``mac_address``). The tenant is the caller's (v2.0 URLs name
none), for an admin too: another tenant's port is 404 as in v1.1.
"""

from __future__ import annotations

from typing import Any

from quantum import exceptions

#: Quantum's ``op-status`` as Neutron's port ``status``.
_STATUS = {"UP": "ACTIVE", "DOWN": "DOWN"}
#: Query parameters that filter the list: Neutron's port attributes this view knows.
FILTERS = (
    "id",
    "name",
    "network_id",
    "tenant_id",
    "project_id",
    "status",
    "admin_state_up",
    "device_id",
    "device_owner",
    "mac_address",
)
_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}


def view(port, tenant_id: str, subnet_id: str | None = None) -> dict[str, Any]:
    """Return port ``port`` (a ``quantum.db.api.Port`` of ``tenant_id``) as Neutron shows one.

    :param subnet_id: the id of its network's subnet.
    """
    fixed_ips = []
    if port.fixed_ip is not None:
        fixed_ips.append({"subnet_id": subnet_id, "ip_address": port.fixed_ip})
    return {
        "id": port.id,
        "name": "",
        "network_id": port.network_id,
        "tenant_id": tenant_id,
        "project_id": tenant_id,
        "status": _STATUS.get(port.op_status, port.op_status),
        "admin_state_up": port.state == "ACTIVE",
        "device_id": "",
        "device_owner": "",
        "fixed_ips": fixed_ips,
    }


def _wanted(value: str, name: str) -> object:
    """Return a filter value as the view holds it (``admin_state_up``: a boolean)."""
    if name != "admin_state_up":
        return value
    try:
        return _BOOLEANS[value.lower()]
    except KeyError:
        raise exceptions.InvalidFilter(name=name, reason=f"{value!r} is not a boolean") from None


def _fields(request) -> list[str]:
    """Return the ``fields`` asked for (Neutron: only those keys, always with ``id``)."""
    return [name for name in request.GET.getall("fields") if name]


def _only(port: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    if not fields:
        return port
    return {key: value for key, value in port.items() if key in fields or key == "id"}


class PortV2Controller:
    def __init__(self, app) -> None:
        self.db = app.db

    def index(self, request, context):
        """List the tenant's ports matching every filter (several values of one: any)."""
        filters: dict[str, list[object]] = {}
        for name, value in request.GET.items():
            if name == "fields":
                continue
            if name not in FILTERS:
                raise exceptions.InvalidFilter(name=name, reason="not supported by this view")
            filters.setdefault(name, []).append(_wanted(value, name))
        tenant_id = context.tenant_id
        ports = [
            view(port, tenant_id, subnet_id)
            for port, subnet_id in self.db.tenant_port_list(tenant_id)
        ]
        fields = _fields(request)
        return 200, {
            "ports": [
                _only(port, fields)
                for port in ports
                if all(port.get(name) in values for name, values in filters.items())
            ]
        }

    def show(self, request, context, port_id):
        """Show one of the tenant's ports (another tenant's: 404)."""
        port, subnet_id = self.db.tenant_port_get(context.tenant_id, port_id)
        return 200, {"port": _only(view(port, context.tenant_id, subnet_id), _fields(request))}
