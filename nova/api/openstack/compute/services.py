"""``/os-services`` (admins): list, enable and disable compute services, delete services."""

from __future__ import annotations

from nova import exception
from nova.api.openstack import policy
from nova.api.openstack import wsgi
from nova.api.openstack.compute import views
from nova.api.openstack.schemas import services as schema
from nova.compute import host_api

#: ``PUT /os-services/{action}`` at 2.1: the action -> (disabled, needs a reason).
_ACTIONS = {"enable": (False, False), "disable": (True, False), "disable-log-reason": (True, True)}


def service_view(state: host_api.ServiceState) -> dict:
    """Return a service as Nova 2.1 shows it."""
    service = state.service
    return {
        "id": service.id,
        "binary": service.binary,
        "host": service.host,
        "zone": state.zone,
        "status": "disabled" if service.disabled else "enabled",
        "state": "up" if state.up else "down",
        "updated_at": views.usage_time(service.updated_at or service.created_at),
        "disabled_reason": service.disabled_reason,
    }


class ServicesController:
    #: Query and body schemas of each action (also read by the OpenAPI description).
    query_schemas = {"index": schema.index_query}
    body_schemas = {"update": schema.update}
    #: Fault codes beyond those the OpenAPI description derives from the route.
    faults = {"delete": (409,)}

    def index(self, request):
        """The services, filtered by ``host`` and ``binary``."""
        policy.authorize(request.context, "os_compute_api:os-services:list")
        query = wsgi.validate_query(request, schema.index_query)
        services = host_api.get_services(request.context, query.get("host"), query.get("binary"))
        return 200, {"services": [service_view(state) for state in services]}

    def update(self, request, service_id, body):
        """Enable or disable a compute service (``enable``, ``disable``, ``disable-log-reason``)."""
        policy.authorize(request.context, "os_compute_api:os-services:update")
        body = wsgi.validate(body, schema.update)
        if service_id not in _ACTIONS:
            raise exception.NotFound("Unknown action")
        disabled, needs_reason = _ACTIONS[service_id]
        reason = body.get("disabled_reason") if needs_reason else None
        if needs_reason and reason is None:
            raise exception.Invalid(reason="Missing disabled reason field")
        host_api.set_service_disabled(
            request.context, body["host"], body["binary"], disabled, reason
        )
        view = {
            "host": body["host"],
            "binary": body["binary"],
            "status": "disabled" if disabled else "enabled",
        }
        if reason:
            view["disabled_reason"] = reason
        return 200, {"service": view}

    def delete(self, request, service_id):
        """Delete a service (a compute service without instances, with its compute node)."""
        policy.authorize(request.context, "os_compute_api:os-services:delete")
        if not service_id.isascii() or not service_id.isdigit() or len(service_id) > 9:
            raise exception.Invalid(reason="id must be an integer")
        try:
            host_api.delete_service(request.context, int(service_id))
        except exception.ServiceNotFound:
            raise exception.NotFound(f"Service {service_id} not found.") from None
        return 204, None
