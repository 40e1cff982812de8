"""``/servers/{server_id}/os-interface[/{id}]``: a server's ports (Nova's ``interfaceAttachment``).

Listing and showing read the ports from the network service (quantum,
neutron); the legacy backend has no ports and answers 501, as Nova did with
nova-network. Attaching and detaching (POST, DELETE) are not offered yet:
501 ``notImplemented`` once the server is found, as Nova answers a network
driver that cannot do it (another project's server stays 404).
"""

from __future__ import annotations

from nova import exception
from nova.api.openstack import policy

_NOT_SUPPORTED = (
    "The requested functionality is not supported: this cloud cannot attach or "
    "detach interfaces of a server yet."
)


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
    faults = {"index": (501,), "show": (501,), "create": (501,), "delete": (501,)}
    success = {"create": (200, True), "delete": (202, False)}

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
        """Attach a port (not supported yet: 501)."""
        policy.authorize(request.context, "os_compute_api:os-attach-interfaces:create")
        self.compute_api.get(request.context, server_id)
        raise exception.FeatureNotSupported(reason=_NOT_SUPPORTED)

    def delete(self, request, server_id, id):
        """Detach a port (not supported yet: 501)."""
        policy.authorize(request.context, "os_compute_api:os-attach-interfaces:delete")
        self.compute_api.get(request.context, server_id)
        raise exception.FeatureNotSupported(reason=_NOT_SUPPORTED)
