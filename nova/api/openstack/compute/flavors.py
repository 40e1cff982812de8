"""``/flavors``: the sizes servers come in."""

from __future__ import annotations

from oslo_utils import strutils

from nova import exception
from nova.api.openstack import policy
from nova.api.openstack import wsgi
from nova.api.openstack.compute import views
from nova.api.openstack.schemas import flavor_manage as manage_schema
from nova.api.openstack.schemas import flavors as schema
from nova.compute import api as compute_api_module
from nova.compute import host_api

# Nova's sort keys whose columns this database has (the others sort by flavor id).
_SORT_COLUMNS = {
    "created_at", "disabled", "ephemeral_gb", "flavorid", "id", "is_public",
    "memory_mb", "name", "root_gb", "swap", "updated_at", "vcpus",
}  # fmt: skip
_TRUE = frozenset(strutils.TRUE_STRINGS)
_FALSE = frozenset(strutils.FALSE_STRINGS)


def _is_public(value: str | None) -> bool | None:
    """Return the ``is_public`` filter of an admin's query as Nova reads it.

    :raises nova.exception.Invalid: neither a boolean nor None (Nova's message).
    """
    if value is None:
        return True  # public flavors, unless asked otherwise
    word = value.strip().lower()
    if word == "none":
        return None  # public and private
    if word in _TRUE or word in _FALSE:
        return word in _TRUE
    raise exception.Invalid(f"Invalid is_public filter [{value}]")


class FlavorsController:
    #: The query schema of each action (also read by the OpenAPI description).
    query_schemas = {"index": schema.index_query, "detail": schema.index_query}
    #: Body schemas (flavor-manage), also read by the OpenAPI description.
    body_schemas = {"create": manage_schema.create}
    #: Nova answers 200 to a create and 202 to a delete.
    success = {"create": (200, True), "delete": (202, False)}

    def __init__(self, compute_api: compute_api_module.API, max_limit: int = 1000) -> None:
        self.compute_api = compute_api
        self.max_limit = max_limit

    def _flavors(self, request):
        context = request.context
        query = wsgi.validate_query(request, schema.index_query)
        filters: dict[str, bool | int | None]
        if context.is_admin:
            filters = {"is_public": _is_public(query.get("is_public"))}
        else:
            # Others see the public flavors in service, whatever they ask (as Nova).
            filters = {"is_public": True, "disabled": False}
        if "minRam" in query:
            filters["min_memory_mb"] = int(query["minRam"])
        if "minDisk" in query:
            filters["min_root_gb"] = int(query["minDisk"])
        sort_key = query.get("sort_key") or "flavorid"
        if sort_key not in _SORT_COLUMNS:
            sort_key = "flavorid"
        limit = min(int(query.get("limit", self.max_limit)), self.max_limit)
        return self.compute_api.get_flavors(
            context,
            filters,
            sort=(sort_key, query.get("sort_dir") or "asc"),
            limit=limit,
            marker=query.get("marker"),
        )

    def index(self, request):
        flavors = self._flavors(request)
        return 200, {"flavors": [views.flavor(request, f, detail=False) for f in flavors]}

    def detail(self, request):
        return 200, {"flavors": [views.flavor(request, f) for f in self._flavors(request)]}

    def show(self, request, flavor_id):
        flavor = self.compute_api.get_flavor(request.context, flavor_id)
        return 200, {"flavor": views.flavor(request, flavor)}

    # --- flavor-manage (admins) ------------------------------------------------------

    def create(self, request, body):
        """Create a flavor (admins); without an ``id`` it gets a UUID."""
        policy.authorize(request.context, "os_compute_api:os-flavor-manage:create")
        values = wsgi.validate(body, manage_schema.create)["flavor"]
        flavor_id = values.get("id")
        flavor = host_api.create_flavor(
            request.context,
            name=values["name"],
            memory_mb=int(values["ram"]),
            vcpus=int(values["vcpus"]),
            root_gb=int(values["disk"]),
            # JSON numbers are ids too (10 is "10"), as in Nova.
            flavorid=None if flavor_id in (None, "") else str(flavor_id),
            ephemeral_gb=int(values.get("OS-FLV-EXT-DATA:ephemeral", 0)),
            swap=int(values.get("swap", 0)),
            rxtx_factor=float(values.get("rxtx_factor", 1.0)),
            is_public=strutils.bool_from_string(
                values.get("os-flavor-access:is_public", True), strict=True
            ),
        )
        return 200, {"flavor": views.flavor(request, flavor)}

    def delete(self, request, flavor_id):
        """Delete a flavor (admins); its servers keep showing it."""
        policy.authorize(request.context, "os_compute_api:os-flavor-manage:delete")
        host_api.delete_flavor(request.context, flavor_id)
        return 202, None
