"""``/servers/{server_id}/ips[/{id}]``: a server's addresses by network, as Nova 2.1 shows them.

The same addresses as the server view's ``addresses`` (one read), in
Nova's shorter form: ``version`` and ``addr`` only.
"""

from __future__ import annotations

from nova import exception
from nova.api.openstack import policy
from nova.api.openstack.compute import views


def _short(addresses: dict[str, list[dict]]) -> dict[str, list[dict]]:
    return {
        label: [{"version": a["version"], "addr": a["addr"]} for a in items]
        for label, items in addresses.items()
    }


class IPsController:
    """A server's addresses."""

    def __init__(self, compute_api) -> None:
        self.compute_api = compute_api

    def _addresses(self, request, server_id: str) -> dict[str, list[dict]]:
        fixed = self.compute_api.get_addresses(request.context, server_id)
        return _short(views.addresses(fixed))

    def index(self, request, server_id):
        """List a server's addresses by network label."""
        policy.authorize(request.context, "os_compute_api:ips:index")
        return 200, {"addresses": self._addresses(request, server_id)}

    def show(self, request, server_id, id):
        """List a server's addresses on one network (by its label)."""
        policy.authorize(request.context, "os_compute_api:ips:show")
        addresses = self._addresses(request, server_id)
        if id not in addresses:
            raise exception.NetworkLabelNotFound()
        return 200, {id: addresses[id]}
