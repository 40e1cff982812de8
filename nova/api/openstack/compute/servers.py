"""``/servers``: create (define and launch), list, show, rename, delete, actions."""

from __future__ import annotations

import urllib.parse

from nova import exception
from nova import utils
from nova.api.openstack import policy
from nova.api.openstack import wsgi
from nova.api.openstack.compute import views
from nova.api.openstack.schemas import servers as schema
from nova.compute import vm_states


class ServersController:
    #: The query schema of each action (also read by the OpenAPI description).
    query_schemas = {"index": schema.index_query, "detail": schema.index_query}

    def __init__(
        self, compute_api, extension_manager, max_limit: int, max_server_count: int
    ) -> None:
        self.compute_api = compute_api
        self.extensions = extension_manager
        self.max_limit = max_limit
        self.create_schema = schema.create(
            extension_manager.server_create_schema(), max_server_count
        )
        self.actions = extension_manager.server_actions()
        #: The body schema of each action (also read by the OpenAPI description).
        self.body_schemas = {
            "create": self.create_schema,
            "update": schema.update,
            "action": schema.actions(extension_manager.server_action_schemas()),
        }

    # --- reading -------------------------------------------------------------------

    def _list(self, request, detail: bool):
        context = request.context
        policy.authorize(context, "servers:index")
        query = wsgi.validate_query(request, schema.index_query)
        filters: dict = {}
        if query.get("all_tenants", "0").lower() in ("1", "true"):
            policy.authorize(context, "servers:index:all_tenants")
        else:
            filters["project_id"] = context.project_id
        if "name" in query:
            filters["name"] = query["name"]
        if "status" in query:
            filters["vm_state"] = [vm_states.VM_STATES_BY_STATUS[query["status"]]]
        if "changes-since" in query:  # a valid time: the schema checked it
            filters["changes_since"] = utils.parse_isotime(query["changes-since"])
        limit = min(int(query.get("limit", self.max_limit)), self.max_limit)
        data = self.compute_api.get_all_for_view(
            context, filters, limit=limit, marker=query.get("marker"), detail=detail
        )
        if detail:
            body = {"servers": views.server_details(request, data, self.extensions)}
        else:
            body = {"servers": views.server_summaries(request, data)}
        instances = data.instances
        if instances and len(instances) == limit:
            params = {k: v for k, v in request.GET.items() if k != "marker"}
            params["marker"] = instances[-1].uuid
            query_string = urllib.parse.urlencode(params)
            suffix = "/detail" if detail else ""
            body["servers_links"] = [
                {
                    "rel": "next",
                    "href": f"{request.endpoint}/v2.1/servers{suffix}?{query_string}",
                }
            ]
        return 200, body

    def index(self, request):
        return self._list(request, detail=False)

    def detail(self, request):
        return self._list(request, detail=True)

    def _show(self, request, server_id):
        data = self.compute_api.get_for_view(request.context, server_id)
        return {"server": views.server_details(request, data, self.extensions)[0]}

    def show(self, request, server_id):
        policy.authorize(request.context, "servers:show")
        return 200, self._show(request, server_id)

    # --- writing ------------------------------------------------------------------

    def create(self, request, body):
        context = request.context
        policy.authorize(context, "servers:create")
        server = wsgi.validate(body, self.create_schema)["server"]
        kwargs = {}
        for extension in self.extensions:
            kwargs.update(extension.get_server_create_kwargs(server))
        # JSON Schema counts 2.0 as an integer: hand the compute API Python ints.
        flavor_ref = server["flavorRef"]
        if isinstance(flavor_ref, float):
            flavor_ref = int(flavor_ref)
        min_count = int(server.get("min_count", 1))
        instances = self.compute_api.create(
            context,
            flavor_id=str(flavor_ref),
            image_ref=server["imageRef"],
            name=server["name"],
            metadata=server.get("metadata"),
            min_count=min_count,
            max_count=int(server.get("max_count", min_count)),
            availability_zone=server.get("availability_zone"),
            key_name=server.get("key_name"),
            **kwargs,
        )
        if server.get("return_reservation_id"):
            return 202, {"reservation_id": instances[0].reservation_id}
        first = instances[0]
        return 202, {
            "server": {
                "id": first.uuid,
                "links": views.links(request, "servers", first.uuid),
                "OS-DCF:diskConfig": "MANUAL",
                "security_groups": [{"name": "default"}],
            }
        }

    def update(self, request, server_id, body):
        policy.authorize(request.context, "servers:update")
        values = wsgi.validate(body, schema.update)["server"]
        self.compute_api.rename(request.context, server_id, values["name"])
        return 200, self._show(request, server_id)

    def delete(self, request, server_id):
        policy.authorize(request.context, "servers:delete")
        self.compute_api.delete(request.context, server_id)
        return 204, None

    def action(self, request, server_id, body):
        body = wsgi.validate(body, schema.action)
        ((name, argument),) = body.items()
        handler = self.actions.get(name)
        if handler is None:
            raise exception.Invalid(reason=f"There is no such action: {name}")
        return handler(request, server_id, argument)
