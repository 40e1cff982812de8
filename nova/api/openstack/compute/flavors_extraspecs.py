"""``/flavors/{flavor_id}/os-extra_specs``: a flavor's key/value pairs (writes: admins)."""

from __future__ import annotations

from nova import exception
from nova.api.openstack import policy
from nova.api.openstack import wsgi
from nova.api.openstack.schemas import flavors_extraspecs as schema
from nova.compute import host_api


def _stored(specs: dict) -> dict[str, str]:
    """Return ``specs`` with numbers as the strings they are stored and shown as.

    A number cannot be longer than 255 characters written out: the JSON
    reader makes integers beyond 64 bits floats (``1e+256``).
    """
    return {key: str(value) for key, value in specs.items()}


class FlavorExtraSpecsController:
    #: Query and body schemas of each action (also read by the OpenAPI description).
    query_schemas = {"index": schema.index_query, "show": schema.show_query}
    body_schemas = {"create": schema.create, "update": schema.update}
    #: Nova answers 200 to a create and to a delete (with no body).
    success = {"create": (200, True), "delete": (200, False)}
    #: Fault codes beyond those the OpenAPI description derives from the route.
    faults = {"update": (409,)}

    def index(self, request, flavor_id):
        """The extra specs of a flavor."""
        policy.authorize(request.context, "os_compute_api:os-flavor-extra-specs:index")
        wsgi.validate_query(request, schema.index_query)
        return 200, {"extra_specs": host_api.get_extra_specs(request.context, flavor_id)}

    def create(self, request, flavor_id, body):
        """Create or update extra specs of a flavor (the others stay)."""
        policy.authorize(request.context, "os_compute_api:os-flavor-extra-specs:create")
        specs = wsgi.validate(body, schema.create)["extra_specs"]
        host_api.update_extra_specs(request.context, flavor_id, _stored(specs))
        return 200, body

    def show(self, request, flavor_id, key):
        """One extra spec of a flavor."""
        policy.authorize(request.context, "os_compute_api:os-flavor-extra-specs:show")
        wsgi.validate_query(request, schema.show_query)
        specs = host_api.get_extra_specs(request.context, flavor_id)
        if key not in specs:
            raise exception.FlavorExtraSpecsNotFound(flavor_id=flavor_id, extra_specs_key=key)
        return 200, {key: specs[key]}

    def update(self, request, flavor_id, key, body):
        """Set one extra spec of a flavor; the body's one key must be the URL's."""
        policy.authorize(request.context, "os_compute_api:os-flavor-extra-specs:update")
        wsgi.validate(body, schema.update)
        if key not in body:
            raise exception.Invalid(reason="Request body and URI mismatch")
        host_api.update_extra_specs(request.context, flavor_id, _stored(body))
        return 200, body

    def delete(self, request, flavor_id, key):
        """Remove one extra spec of a flavor."""
        policy.authorize(request.context, "os_compute_api:os-flavor-extra-specs:delete")
        host_api.delete_extra_spec(request.context, flavor_id, key)
        return 200, None
