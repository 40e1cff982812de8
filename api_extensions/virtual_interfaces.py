"""os-virtual-interfaces: the virtual interfaces (NICs) of a server."""

from __future__ import annotations

from nova.api.openstack import extensions
from nova.api.openstack import policy
from nova.api.openstack import wsgi
from nova.api.openstack.compute import views

_QUERY = {
    "type": "object",
    "properties": {
        "limit": {"type": "string", "pattern": "^[0-9]{1,9}$"},
        "offset": {"type": "string", "pattern": "^[0-9]{1,9}$"},
    },
    "additionalProperties": False,
}


class VirtualInterfacesController:
    """``/servers/{server_id}/os-virtual-interfaces[/{id}]``."""

    #: The query schema of each action (also read by the OpenAPI description).
    query_schemas = {"index": _QUERY}

    def __init__(self, compute_api) -> None:
        self.compute_api = compute_api

    def _views(self, request, server_id: str, vifs) -> list[dict]:
        """Return the VIFs' views: Nova's at 2.1, with the network and this project's links.

        ``OS-EXT-VIF-NET:net_id`` (the Nova network's or the port's network)
        is the key tempest's v2.1 schema and Nova's v2 sample give it (2.12
        renamed it ``net_id``, a version this API does not claim); ``links``
        is this project's addition: the self link makes the VIF's id a
        globally unique URL.
        """
        base = views.collection_url(request, f"servers/{server_id}/os-virtual-interfaces")
        return [
            {
                "id": vif.uuid,
                "mac_address": vif.address,
                "OS-EXT-VIF-NET:net_id": vif.network_uuid,
                "links": [{"rel": "self", "href": f"{base}/{vif.uuid}"}],
            }
            for vif in vifs
        ]

    def index(self, request, server_id):
        policy.authorize(request.context, "os_compute_api:os-virtual-interfaces")
        query = wsgi.validate_query(request, _QUERY)
        vifs = self.compute_api.get_vifs(
            request.context,
            server_id,
            limit=int(query["limit"]) if "limit" in query else None,
            offset=int(query.get("offset", 0)),
        )
        return 200, {"virtual_interfaces": self._views(request, server_id, vifs)}

    def show(self, request, server_id, id):
        policy.authorize(request.context, "os_compute_api:os-virtual-interfaces")
        vif = self.compute_api.get_vif(request.context, server_id, id)
        return 200, {"virtual_interface": self._views(request, server_id, [vif])[0]}


class VirtualInterfaces(extensions.ExtensionDescriptor):
    """Virtual interface support."""

    name = "VirtualInterfaces"
    alias = "os-virtual-interfaces"
    namespace = "http://docs.openstack.org/ext/virtual_interfaces/api/v1.1"
    updated = "2011-08-17T00:00:00Z"
    description = "Virtual interface support: list the NICs of a server."

    def get_resources(self):
        controller = VirtualInterfacesController(self.compute_api)
        return [extensions.ResourceExtension("os-virtual-interfaces", controller)]
