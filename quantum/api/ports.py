"""Ports and their attachment; port detail carries the ``configuration``."""

from __future__ import annotations

from typing import Any

from quantum import exceptions
from quantum.api import schemas
from quantum.api import wsgi


class PortController:
    def __init__(self, app) -> None:
        self.app = app
        self.db = app.db

    def view(self, network, port, detail: bool = False, configuration: dict | None = None) -> dict:
        """Return a port's representation (``detail``: state, fixed IP, attachment, configuration).

        :param configuration: the port's, if read already.
        """
        if not detail:
            return {"id": port.id}
        view = {"id": port.id, "state": port.state, "op-status": port.op_status}
        view["fixed_ip"] = port.fixed_ip
        view["attachment"] = {"id": port.interface_id} if port.interface_id else {}
        if configuration is None:
            configuration = self.app.port_configuration(network, port)
        view["configuration"] = configuration
        return view

    def detailed(self, network, ports) -> list[dict]:
        """Return the detail views of a network's ``ports``, their configuration read at once."""
        configurations = self.app.port_configurations(network, ports) if ports else {}
        return [self.view(network, p, True, configurations[p.id]) for p in ports]

    def _list(self, request, tenant_id, network_id, detail: bool):
        network = self.db.network_get(tenant_id, network_id)
        attachment = request.GET.get("attachment")
        found = self.db.port_list(tenant_id, network_id, attachment=attachment)
        if detail:
            return 200, {"ports": self.detailed(network, found)}
        return 200, {"ports": [self.view(network, port) for port in found]}

    def index(self, request, context, tenant_id, network_id):
        return self._list(request, tenant_id, network_id, detail=False)

    def detail(self, request, context, tenant_id, network_id):
        return self._list(request, tenant_id, network_id, detail=True)

    def show(self, request, context, tenant_id, network_id, port_id):
        port = self.db.port_get(tenant_id, network_id, port_id)
        return 200, {"port": {"id": port.id, "state": port.state, "op-status": port.op_status}}

    def show_configuration(self, request, context, tenant_id, network_id, port_id):
        """Return only a port's configuration (what a compute host or agent reads)."""
        port, network = self.db.port_get_with_network(tenant_id, network_id, port_id)
        return 200, {"configuration": self.app.port_configuration(network, port)}

    def detail_all(self, request, context):
        """List every tenant's ports in detail, with ``network_id`` and ``tenant_id`` (admins).

        ``?attachment=ID`` keeps the port that interface-id is attached to:
        how an agent finds the port (and network) of an edge binding it sees.

        :raises quantum.exceptions.Forbidden: not an admin.
        """
        if not context.is_admin:
            raise exceptions.Forbidden(reason="only an admin may list every tenant's ports")
        found = self.db.port_list_all(attachment=request.GET.get("attachment"))
        by_network: dict[str, tuple[Any, list]] = {}
        for port, network in found:
            by_network.setdefault(network.id, (network, []))[1].append(port)
        views = {}
        for network, ports in by_network.values():
            for view in self.detailed(network, ports):
                view["network_id"] = network.id
                view["tenant_id"] = network.tenant_id
                views[view["id"]] = view
        return 200, {"ports": [views[port.id] for port, _network in found]}

    def show_detail(self, request, context, tenant_id, network_id, port_id):
        port, network = self.db.port_get_with_network(tenant_id, network_id, port_id)
        return 200, {"port": self.view(network, port, detail=True)}

    def create(self, request, context, tenant_id, network_id, body):
        values = wsgi.validate(body or {"port": {}}, schemas.port_create)["port"]
        wsgi.require_admin_for(context, values, ("configuration",))
        port = self.db.port_create(
            tenant_id,
            network_id,
            values.get("state", "DOWN"),
            values.get("configuration", {}),
            fixed_ip=values.get("fixed_ip"),
        )
        return 202, {"port": {"id": port.id}}

    def update(self, request, context, tenant_id, network_id, port_id, body):
        values = wsgi.validate(body, schemas.port_update)["port"]
        wsgi.require_admin_for(context, values, ("configuration", "op-status"))
        self.db.port_update(
            tenant_id,
            network_id,
            port_id,
            state=values.get("state"),
            configuration=values.get("configuration"),
            op_status=values.get("op-status"),
        )
        return 204, None

    def delete(self, request, context, tenant_id, network_id, port_id):
        self.db.port_delete(tenant_id, network_id, port_id)
        return 204, None

    def get_attachment(self, request, context, tenant_id, network_id, port_id):
        port = self.db.port_get(tenant_id, network_id, port_id)
        return 200, {"attachment": {"id": port.interface_id} if port.interface_id else {}}

    def attach(self, request, context, tenant_id, network_id, port_id, body):
        values = wsgi.validate(body, schemas.attachment)["attachment"]
        # With agents, a port is UP once its agent wired it (they report it).
        op_status = "DOWN" if self.app.conf.op_status_from_agents else "UP"
        self.db.attach(tenant_id, network_id, port_id, values["id"], op_status=op_status)
        return 204, None

    def detach(self, request, context, tenant_id, network_id, port_id):
        self.db.detach(tenant_id, network_id, port_id)
        return 204, None


class AttachmentController:
    """Admin only: which port (of any tenant) an interface-id is attached to.

    The plugins' agents ask it for the edge bindings they find on their host.
    """

    def __init__(self, app) -> None:
        self.db = app.db

    @staticmethod
    def view(port, tenant_id: str) -> dict:
        """Return one attachment: the interface-id, its port, network and tenant."""
        return {
            "id": port.interface_id,
            "port_id": port.id,
            "network_id": port.network_id,
            "tenant_id": tenant_id,
            "state": port.state,
            "op-status": port.op_status,
        }

    @staticmethod
    def _require_admin(context) -> None:
        if not context.is_admin:
            raise exceptions.Forbidden(reason="only an admin may list attachments")

    def index(self, request, context):
        self._require_admin(context)
        found = self.db.attachment_list(request.GET.get("id"))
        return 200, {"attachments": [self.view(port, tenant) for port, tenant in found]}

    def show(self, request, context, attachment_id):
        self._require_admin(context)
        found = self.db.attachment_list(attachment_id)
        if not found:
            raise exceptions.AttachmentNotFound(att_id=attachment_id)
        return 200, {"attachment": self.view(*found[0])}
