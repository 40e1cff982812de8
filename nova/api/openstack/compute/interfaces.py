"""``/servers/{server_id}/os-interface[/{id}]``: a server's ports (Nova's ``interfaceAttachment``).

Listing and showing read the ports from the network service (quantum,
neutron); the legacy backend has no ports and answers 501, as Nova did with
nova-network. Attaching (POST ``{"interfaceAttachment": {"port_id"|"net_id",
"fixed_ips"}}`` -> 200 with the new ``interfaceAttachment``) and detaching
(DELETE -> 202) hot-plug a port on an ACTIVE server through its compute host
(an RPC call): a port in use is 409, an unknown or another project's port or
network 404, a server not ACTIVE 409, a backend or driver that cannot 501.
"""

from __future__ import annotations

from nova import exception
from nova.api.openstack import policy
from nova.api.openstack import wsgi
from nova.api.openstack.schemas import interfaces as schema


def _view(interface) -> dict:
    return {
        "port_id": interface.port_id,
        "net_id": interface.net_id,
        "mac_addr": interface.mac_addr,
        "port_state": interface.port_state,
        "fixed_ips": [
            {"subnet_id": subnet_id, "ip_address": address}
            for subnet_id, address in interface.fixed_ips
        ],
    }


class InterfaceAttachmentController:
    """A server's ports."""

    #: Faults beyond the usual ones (the OpenAPI description lists them).
    faults = {"index": (501,), "show": (501,), "create": (409, 501), "delete": (409, 501)}
    success = {"create": (200, True), "delete": (202, False)}
    body_schemas = {"create": schema.create}

    def __init__(self, compute_api) -> None:
        self.compute_api = compute_api

    def index(self, request, server_id):
        """List a server's ports."""
        policy.authorize(request.context, "os_compute_api:os-attach-interfaces:list")
        interfaces = self.compute_api.get_interfaces(request.context, server_id)
        return 200, {"interfaceAttachments": [_view(i) for i in interfaces]}

    def show(self, request, server_id, id):
        """Show one port of a server."""
        policy.authorize(request.context, "os_compute_api:os-attach-interfaces:show")
        for interface in self.compute_api.get_interfaces(request.context, server_id):
            if interface.port_id == id:
                return 200, {"interfaceAttachment": _view(interface)}
        raise exception.InterfaceNotFound(instance_id=server_id, port_id=id)

    def create(self, request, server_id, body=None):
        """Hot-plug a port (``port_id``) or a new port on a network (``net_id``)."""
        policy.authorize(request.context, "os_compute_api:os-attach-interfaces:create")
        attachment = wsgi.validate(body or {}, schema.create).get("interfaceAttachment") or {}
        network_id = attachment.get("net_id")
        port_id = attachment.get("port_id")
        fixed_ips = attachment.get("fixed_ips") or []
        if network_id and port_id:
            raise exception.Invalid(reason="Must not input both network_id and port_id")
        if fixed_ips and not network_id:
            raise exception.Invalid(reason="Must input network_id when request IP address")
        if not network_id and not port_id:
            # Nova would pick a network; Quantum has no shared default to pick.
            raise exception.Invalid(reason="Must input network_id or port_id")
        fixed_ip = fixed_ips[0]["ip_address"] if fixed_ips else None
        interface = self.compute_api.attach_interface(
            request.context, server_id, network_id, port_id, fixed_ip
        )
        return 200, {"interfaceAttachment": _view(interface)}

    def delete(self, request, server_id, id):
        """Hot-unplug a server's port."""
        policy.authorize(request.context, "os_compute_api:os-attach-interfaces:delete")
        self.compute_api.detach_interface(request.context, server_id, id)
        return 202, None
