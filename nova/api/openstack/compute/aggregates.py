"""``GET /os-aggregates`` (admins): the host aggregates, of which this cloud has none.

Host aggregates are not implemented (no create, no scheduler filter reads
them), so the list is empty, which is true. ``openstack hypervisor show``
reads it to name each hypervisor's aggregates.
"""

from __future__ import annotations

from nova.api.openstack import policy
from nova.api.openstack import wsgi
from nova.api.openstack.schemas import hypervisors as schema


class AggregatesController:
    #: The query schema of each action (also read by the OpenAPI description).
    query_schemas = {"index": schema.index_query}

    def index(self, request):
        """The host aggregates: none."""
        policy.authorize(request.context, "os_compute_api:os-aggregates:index")
        wsgi.validate_query(request, schema.index_query)
        return 200, {"aggregates": []}
