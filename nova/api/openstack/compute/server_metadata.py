"""``/servers/{server_id}/metadata[/{id}]``: a server's metadata items, as Nova 2.1 has them.

POST merges items into the server's, PUT on the collection replaces them
all, PUT on an item sets that one (its key must be the URL's). The number of
items is limited by ``[quota] metadata_items`` (403, as Nova); a server
being built or deleted is 409.
"""

from __future__ import annotations

from nova import exception
from nova.api.openstack import policy
from nova.api.openstack import wsgi
from nova.api.openstack.schemas import server_metadata as schema


class ServerMetadataController:
    """A server's metadata."""

    #: The body schema of each action (also read by the OpenAPI description).
    body_schemas = {
        "create": schema.create,
        "update_all": schema.update_all,
        "update": schema.update,
    }
    #: Nova answers 200 to the POST that merges items (not 201 or 202).
    success = {"create": (200, True)}
    #: Faults beyond the usual ones (the OpenAPI description lists them).
    faults = {
        "create": (403, 409),
        "update": (403, 409),
        "update_all": (403, 409),
        "delete": (409,),
    }

    def __init__(self, compute_api) -> None:
        self.compute_api = compute_api

    def index(self, request, server_id):
        """List a server's metadata items."""
        policy.authorize(request.context, "os_compute_api:server-metadata:index")
        return 200, {"metadata": self.compute_api.get_metadata(request.context, server_id)}

    def create(self, request, server_id, body):
        """Add or change metadata items (the others stay)."""
        policy.authorize(request.context, "os_compute_api:server-metadata:create")
        metadata = wsgi.validate(body, schema.create)["metadata"]
        result = self.compute_api.update_metadata(request.context, server_id, metadata)
        return 200, {"metadata": result}

    def update_all(self, request, server_id, body):
        """Replace all of a server's metadata items."""
        policy.authorize(request.context, "os_compute_api:server-metadata:update_all")
        metadata = wsgi.validate(body, schema.update_all)["metadata"]
        result = self.compute_api.update_metadata(
            request.context, server_id, metadata, replace=True
        )
        return 200, {"metadata": result}

    def show(self, request, server_id, id):
        """Show one metadata item."""
        policy.authorize(request.context, "os_compute_api:server-metadata:show")
        metadata = self.compute_api.get_metadata(request.context, server_id)
        if id not in metadata:
            raise exception.MetadataItemNotFound()
        return 200, {"meta": {id: metadata[id]}}

    def update(self, request, server_id, id, body):
        """Set one metadata item; the body's key must be the URL's."""
        policy.authorize(request.context, "os_compute_api:server-metadata:update")
        item = wsgi.validate(body, schema.update)["meta"]
        if id not in item:
            # The server is looked up first: another project's is 404, not 400.
            self.compute_api.get(request.context, server_id)
            raise exception.ValidationError(reason="Request body and URI mismatch")
        self.compute_api.update_metadata(request.context, server_id, item)
        return 200, {"meta": item}

    def delete(self, request, server_id, id):
        """Delete one metadata item."""
        policy.authorize(request.context, "os_compute_api:server-metadata:delete")
        self.compute_api.delete_metadata_item(request.context, server_id, id)
        return 204, None
