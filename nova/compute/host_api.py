"""What the admin API calls: flavors and their extra specs, services, hypervisors.

Policy is the REST layer's; these functions trust their caller. A service's
``state`` is read from its heartbeat (``up`` while it is younger than
``service_down_time``), its ``status`` from ``services.disabled``, which the
scheduler's compute filter honours: a disabled compute gets no new servers.
"""

from __future__ import annotations

import dataclasses
import uuid as uuidlib
from typing import Any

import nova.conf
from nova import context as nova_context
from nova import exception
from nova.compute import rpcapi as compute_rpcapi
from nova.db import flavors as flavor_db
from nova.db import records
from nova.db import services as service_db

CONF = nova.conf.CONF

#: The zone Nova shows for services other than nova-compute.
INTERNAL_ZONE = "internal"


# --- flavors ---------------------------------------------------------------------


def create_flavor(
    context: nova_context.RequestContext,
    name: str,
    memory_mb: int,
    vcpus: int,
    root_gb: int,
    flavorid: str | None = None,
    ephemeral_gb: int = 0,
    swap: int = 0,
    rxtx_factor: float = 1.0,
    is_public: bool = True,
) -> records.Flavor:
    """Create a flavor; without ``flavorid`` (None or empty) it gets a new UUID.

    :raises nova.exception.FlavorIdExists: a live flavor has that id (409).
    :raises nova.exception.FlavorExists: a live flavor has that name (409).
    """
    return flavor_db.flavor_create(
        context,
        {
            "flavorid": flavorid or str(uuidlib.uuid4()),
            "name": name,
            "memory_mb": memory_mb,
            "vcpus": vcpus,
            "root_gb": root_gb,
            "ephemeral_gb": ephemeral_gb,
            "swap": swap,
            "rxtx_factor": rxtx_factor,
            "is_public": is_public,
            "disabled": False,
        },
    )


def delete_flavor(context: nova_context.RequestContext, flavor_id: str) -> None:
    """Delete a flavor (soft: servers of that flavor keep showing it).

    :raises nova.exception.FlavorNotFound: no such flavor.
    """
    flavor_db.flavor_destroy(context, flavor_id)


def get_extra_specs(context: nova_context.RequestContext, flavor_id: str) -> dict[str, str]:
    """Return a flavor's extra specs.

    :raises nova.exception.FlavorNotFound: no such flavor.
    """
    return flavor_db.extra_specs_get(context, flavor_id)


def update_extra_specs(
    context: nova_context.RequestContext, flavor_id: str, specs: dict[str, str]
) -> dict[str, str]:
    """Create or update ``specs`` on a flavor (the others stay); return all its specs.

    :raises nova.exception.FlavorNotFound: no such flavor.
    """
    return flavor_db.extra_specs_update_or_create(context, flavor_id, specs)


def delete_extra_spec(context: nova_context.RequestContext, flavor_id: str, key: str) -> None:
    """Remove one extra spec of a flavor.

    :raises nova.exception.FlavorNotFound: no such flavor.
    :raises nova.exception.FlavorExtraSpecsNotFound: no such key.
    """
    flavor_db.extra_spec_delete(context, flavor_id, key)


# --- services --------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ServiceState:
    """A service with what the API shows of it."""

    service: records.Service
    up: bool
    zone: str


def _state(service: records.Service) -> ServiceState:
    if service.binary == "nova-compute":
        zone = service.availability_zone or CONF.default_availability_zone
    else:
        zone = INTERNAL_ZONE
    return ServiceState(service, service_db.service_is_up(service, CONF.service_down_time), zone)


def get_services(
    context: nova_context.RequestContext, host: str | None = None, binary: str | None = None
) -> list[ServiceState]:
    """Return the live services, those of ``host`` and ``binary`` if given."""
    return [
        _state(service)
        for service in service_db.service_get_all(context)
        if (not host or service.host == host) and (not binary or service.binary == binary)
    ]


def set_service_disabled(
    context: nova_context.RequestContext,
    host: str,
    binary: str,
    disabled: bool,
    reason: str | None = None,
) -> records.Service:
    """Disable (with an optional reason) or enable a compute service.

    :raises nova.exception.Invalid: ``binary`` is not ``nova-compute``.
    :raises nova.exception.HostBinaryNotFound: no such service.
    """
    if binary != "nova-compute":
        raise exception.Invalid(
            reason=f"Updating a {binary} service is not supported. Only nova-compute "
            "services can be updated."
        )
    return service_db.service_update(
        context, host, binary, {"disabled": disabled, "disabled_reason": reason}
    )


def delete_service(context: nova_context.RequestContext, service_id: int) -> None:
    """Delete a service; a compute service only without instances, with its compute node.

    :raises nova.exception.ServiceNotFound: no such service.
    :raises nova.exception.Conflict: the compute host still has instances.
    """
    service_db.service_destroy(context, service_id)


# --- hypervisors -----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Hypervisor:
    """A compute node with its service."""

    node: records.ComputeNode
    service: ServiceState
    current_workload: int


def get_hypervisors(context: nova_context.RequestContext) -> list[Hypervisor]:
    """Return every compute node of a live compute service, by id."""
    workloads = service_db.compute_workloads(context)
    hypervisors = [
        Hypervisor(node, _state(service), workloads.get(node.host, 0))
        for service, node in service_db.compute_hosts(context)
        if node is not None
    ]
    return sorted(hypervisors, key=lambda hypervisor: hypervisor.node.id)


def get_hypervisor(context: nova_context.RequestContext, hypervisor_id: str) -> Hypervisor:
    """Return the compute node whose id is ``hypervisor_id``.

    :raises nova.exception.HypervisorNotFound: no such (live) node.
    """
    for hypervisor in get_hypervisors(context):
        if str(hypervisor.node.id) == hypervisor_id:
            return hypervisor
    raise exception.HypervisorNotFound(hypervisor_id=hypervisor_id)


class ComputeServiceUnavailable(exception.Invalid):
    msg_fmt = "Compute service of %(host)s is unavailable at this time."


def get_hypervisor_uptime(
    context: nova_context.RequestContext, hypervisor_id: str
) -> tuple[Hypervisor, str]:
    """Return the compute node whose id is ``hypervisor_id`` and its host's ``uptime`` line.

    Its compute service is asked (an RPC call).

    :raises nova.exception.HypervisorNotFound: no such (live) node.
    :raises ComputeServiceUnavailable: its compute service is down (400, as Nova).
    :raises NotImplementedError: the host's driver does not tell.
    """
    hypervisor = get_hypervisor(context, hypervisor_id)
    if not hypervisor.service.up:
        raise ComputeServiceUnavailable(host=hypervisor.node.host)
    uptime = compute_rpcapi.ComputeAPI().get_host_uptime(context, hypervisor.node.host)
    return hypervisor, uptime


def hypervisor_statistics(context: nova_context.RequestContext) -> dict[str, Any]:
    """Return the sums of every hypervisor's capacity and usage (Nova's statistics)."""
    totals = dict.fromkeys(
        (
            "count", "vcpus", "memory_mb", "local_gb", "vcpus_used", "memory_mb_used",
            "local_gb_used", "free_ram_mb", "free_disk_gb", "current_workload", "running_vms",
            "disk_available_least",
        ),
        0,
    )  # fmt: skip
    for hypervisor in get_hypervisors(context):
        node = hypervisor.node
        totals["count"] += 1
        for field in (
            "vcpus", "memory_mb", "local_gb", "vcpus_used", "memory_mb_used", "local_gb_used",
            "running_vms",
        ):  # fmt: skip
            totals[field] += getattr(node, field)
        totals["free_ram_mb"] += node.memory_mb - node.memory_mb_used
        totals["free_disk_gb"] += node.local_gb - node.local_gb_used
        totals["disk_available_least"] += node.local_gb - node.local_gb_used
        totals["current_workload"] += hypervisor.current_workload
    return totals
