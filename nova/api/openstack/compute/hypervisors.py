"""``/os-hypervisors`` (admins): compute nodes, their capacity and usage, as Nova 2.1 shows them."""

from __future__ import annotations

from nova import exception
from nova.api.openstack import policy
from nova.api.openstack import wsgi
from nova.api.openstack.schemas import hypervisors as schema
from nova.compute import host_api


def hypervisor_view(hypervisor: host_api.Hypervisor, detail: bool) -> dict:
    """Return a hypervisor as Nova 2.1 lists (``detail=False``) or shows it."""
    node, state = hypervisor.node, hypervisor.service
    view = {
        "id": node.id,
        "hypervisor_hostname": node.host,
        "state": "up" if state.up else "down",
        "status": "disabled" if state.service.disabled else "enabled",
    }
    if detail:
        free_disk_gb = node.local_gb - node.local_gb_used
        view.update(
            vcpus=node.vcpus,
            memory_mb=node.memory_mb,
            local_gb=node.local_gb,
            vcpus_used=node.vcpus_used,
            memory_mb_used=node.memory_mb_used,
            local_gb_used=node.local_gb_used,
            free_ram_mb=node.memory_mb - node.memory_mb_used,
            free_disk_gb=free_disk_gb,
            disk_available_least=free_disk_gb,
            running_vms=node.running_vms,
            current_workload=hypervisor.current_workload,
            hypervisor_type=node.hypervisor_type or "",
            hypervisor_version=node.hypervisor_version or 0,
            cpu_info=node.cpu_info or "{}",
            host_ip=node.host_ip,
            service={
                "host": state.service.host,
                "id": state.service.id,
                "disabled_reason": state.service.disabled_reason,
            },
        )
    return view


class UptimeNotSupported(exception.NovaException):
    msg_fmt = "Virt driver does not implement uptime function."
    code = 501
    safe = True


class HypervisorsController:
    #: The query schema of each action (also read by the OpenAPI description).
    query_schemas = {
        "index": schema.index_query,
        "detail": schema.index_query,
        "show": schema.index_query,
        "statistics": schema.index_query,
        "uptime": schema.index_query,
    }
    #: Fault codes beyond those the OpenAPI description derives from the route.
    faults = {"uptime": (400, 501)}

    def _list(self, request, detail: bool):
        rule = "list-detail" if detail else "list"
        policy.authorize(request.context, f"os_compute_api:os-hypervisors:{rule}")
        wsgi.validate_query(request, schema.index_query)
        hypervisors = host_api.get_hypervisors(request.context)
        return 200, {"hypervisors": [hypervisor_view(h, detail) for h in hypervisors]}

    def index(self, request):
        """The hypervisors: id, host name, state and status."""
        return self._list(request, detail=False)

    def detail(self, request):
        """The hypervisors with their capacity and usage."""
        return self._list(request, detail=True)

    def show(self, request, hypervisor_id):
        """One hypervisor with its capacity and usage."""
        policy.authorize(request.context, "os_compute_api:os-hypervisors:show")
        wsgi.validate_query(request, schema.index_query)
        try:
            hypervisor = host_api.get_hypervisor(request.context, hypervisor_id)
        except exception.HypervisorNotFound:
            raise exception.NotFound(
                f"Hypervisor with ID '{hypervisor_id}' could not be found."
            ) from None
        return 200, {"hypervisor": hypervisor_view(hypervisor, detail=True)}

    def uptime(self, request, hypervisor_id):
        """A hypervisor with its host's ``uptime`` line (501 if its driver does not tell)."""
        policy.authorize(request.context, "os_compute_api:os-hypervisors:uptime")
        wsgi.validate_query(request, schema.index_query)
        try:
            hypervisor, uptime = host_api.get_hypervisor_uptime(request.context, hypervisor_id)
        except exception.HypervisorNotFound:
            raise exception.NotFound(
                f"Hypervisor with ID '{hypervisor_id}' could not be found."
            ) from None
        except NotImplementedError:
            raise UptimeNotSupported() from None
        return 200, {"hypervisor": {**hypervisor_view(hypervisor, detail=False), "uptime": uptime}}

    def statistics(self, request):
        """The sums of every hypervisor's capacity and usage."""
        policy.authorize(request.context, "os_compute_api:os-hypervisors:statistics")
        wsgi.validate_query(request, schema.index_query)
        return 200, {"hypervisor_statistics": host_api.hypervisor_statistics(request.context)}
