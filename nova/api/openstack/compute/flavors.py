"""``/flavors``: the sizes servers come in."""

from __future__ import annotations

from nova.api.openstack import policy
from nova.api.openstack import wsgi
from nova.api.openstack.compute import views
from nova.api.openstack.schemas import flavors as schema
from nova.db import flavors as flavor_db


class FlavorsController:
    #: The query schema of each action (also read by the OpenAPI description).
    query_schemas = {"index": schema.index_query, "detail": schema.index_query}

    def _flavors(self, request):
        policy.authorize(request.context, "flavors:index")
        wsgi.validate(dict(request.GET), schema.index_query, "query")
        return flavor_db.flavor_get_all(request.context)

    def index(self, request):
        flavors = self._flavors(request)
        return 200, {"flavors": [views.flavor(request, f, detail=False) for f in flavors]}

    def detail(self, request):
        return 200, {"flavors": [views.flavor(request, f) for f in self._flavors(request)]}

    def show(self, request, flavor_id):
        policy.authorize(request.context, "flavors:index")
        flavor = flavor_db.flavor_get_by_flavor_id(request.context, flavor_id)
        return 200, {"flavor": views.flavor(request, flavor)}
