"""Networks: index, detail, show, create, update, delete."""

from __future__ import annotations

from oslo_utils import strutils

from quantum.api import ports
from quantum.api import schemas
from quantum.api import wsgi
from quantum.db import api as db_api

#: Body keys only an admin may set: they decide what compute does on the host.
ADMIN_ONLY = ("plugin", "configuration")


def _xml_booleans(request, body):
    """Return ``body`` with an XML subnet's ``enable_dhcp`` text ("true"/"false"…) as a boolean.

    XML attributes are text; JSON's must be a boolean already. Other text is
    left for the schema to refuse.
    """
    if request.content_type not in (wsgi.XML, "text/xml") or not isinstance(body, dict):
        return body
    subnet = (body.get("network") or {}).get("subnet")
    if isinstance(subnet, dict) and isinstance(subnet.get("enable_dhcp"), str):
        word = subnet["enable_dhcp"].strip().lower()
        if word in strutils.TRUE_STRINGS or word in strutils.FALSE_STRINGS:
            subnet["enable_dhcp"] = word in strutils.TRUE_STRINGS
    return body


class NetworkController:
    def __init__(self, app) -> None:
        self.app = app
        self.db = app.db

    def view(self, network, detail: bool = False, configuration: dict | None = None) -> dict:
        """Return a network's representation (``detail``: with name, status, plugin).

        :param configuration: the network's, if read already.
        """
        if not detail:
            return {"id": network.id}
        if configuration is None:
            configuration = self.db.network_configuration(network.id)
        return {
            "id": network.id,
            "name": network.name,
            "op-status": network.op_status,
            "plugin": network.plugin,
            "configuration": configuration,
            "subnet": network.subnet.view() if network.subnet else None,
        }

    def index(self, request, context, tenant_id):
        return 200, {"networks": [self.view(n) for n in self.db.network_list(tenant_id)]}

    def detail(self, request, context, tenant_id):
        networks = self.db.network_list_with_configuration(tenant_id)
        return 200, {
            "networks": [
                self.view(network, detail=True, configuration=configuration)
                for network, configuration in networks
            ]
        }

    def show(self, request, context, tenant_id, network_id):
        network = self.db.network_get(tenant_id, network_id)
        return 200, {"network": self.view(network, detail=True)}

    def show_detail(self, request, context, tenant_id, network_id):
        network = self.db.network_get(tenant_id, network_id)
        view = self.view(network, detail=True)
        port_controller = ports.PortController(self.app)
        view["ports"] = port_controller.detailed(network, self.db.port_list(tenant_id, network_id))
        return 200, {"network": view}

    def create(self, request, context, tenant_id, body):
        values = wsgi.validate(_xml_booleans(request, body), schemas.network_create)["network"]
        wsgi.require_admin_for(context, values, ADMIN_ONLY)
        plugin = values.get("plugin", self.app.conf.core_plugin)
        self.app.plugin(plugin)  # unknown plugin: 400 before anything is written
        network = self.db.network_create(
            tenant_id,
            values["name"],
            plugin,
            values.get("configuration", {}),
            subnet=values.get("subnet"),
        )
        return 202, {"network": {"id": network.id}}

    def update(self, request, context, tenant_id, network_id, body):
        values = wsgi.validate(_xml_booleans(request, body), schemas.network_update)["network"]
        wsgi.require_admin_for(context, values, ADMIN_ONLY)
        if "plugin" in values:
            self.app.plugin(values["plugin"])
        self.db.network_update(
            tenant_id,
            network_id,
            name=values.get("name"),
            plugin=values.get("plugin"),
            configuration=values.get("configuration"),
            subnet=values.get("subnet", db_api.KEEP),
        )
        return 204, None

    def delete(self, request, context, tenant_id, network_id):
        self.db.network_delete(tenant_id, network_id)
        return 204, None
