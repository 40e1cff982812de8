"""Host filters: each says whether a host can take an instance."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from collections.abc import Sequence

import nova.conf
from nova import utils

CONF = nova.conf.CONF


@dataclasses.dataclass
class HostState:
    """A compute host as the scheduler sees it."""

    host: str
    up: bool
    enabled: bool
    availability_zone: str
    vcpus: int = 0
    vcpus_used: int = 0
    memory_mb: int = 0
    memory_mb_used: int = 0
    local_gb: int = 0
    local_gb_used: int = 0

    @property
    def free_ram_mb(self) -> float:
        return self.memory_mb * CONF.ram_allocation_ratio - self.memory_mb_used


@dataclasses.dataclass(frozen=True)
class RequestSpec:
    """What one instance needs."""

    memory_mb: int
    vcpus: int
    root_gb: int
    availability_zone: str | None
    excluded_hosts: tuple[str, ...] = ()


def compute_filter(host: HostState, spec: RequestSpec) -> bool:
    """Pass hosts whose compute service is up and enabled (and not excluded)."""
    return host.up and host.enabled and host.host not in spec.excluded_hosts


def ram_filter(host: HostState, spec: RequestSpec) -> bool:
    """Pass hosts with room for the instance's RAM, over-committed by the ratio."""
    return host.free_ram_mb >= spec.memory_mb


def core_filter(host: HostState, spec: RequestSpec) -> bool:
    """Pass hosts with room for the instance's vCPUs."""
    return host.vcpus * CONF.cpu_allocation_ratio - host.vcpus_used >= spec.vcpus


def disk_filter(host: HostState, spec: RequestSpec) -> bool:
    """Pass hosts with room for the instance's root disk."""
    return host.local_gb * CONF.disk_allocation_ratio - host.local_gb_used >= spec.root_gb


def availability_zone_filter(host: HostState, spec: RequestSpec) -> bool:
    """Pass hosts in the zone the instance asked for (any, if none)."""
    return not spec.availability_zone or host.availability_zone == spec.availability_zone


#: Entry-point group of the filters (``setup.py``), named in
#: ``[filter_scheduler] enabled_filters``.
NAMESPACE = "nova.scheduler.filters"

HostFilter = Callable[[HostState, RequestSpec], bool]


def load_filters(names: Sequence[str]) -> tuple[HostFilter, ...]:
    """Return the filters ``names`` (aliases or import paths), in order.

    :raises nova.exception.PluginNotFound: a name no filter has.
    """
    return tuple(utils.load_plugin(NAMESPACE, name) for name in names)


def enabled_filters() -> tuple[HostFilter, ...]:
    """Return the filters of ``[filter_scheduler] enabled_filters``."""
    return load_filters(tuple(CONF.filter_scheduler.enabled_filters))


def filter_hosts(
    hosts: list[HostState], spec: RequestSpec, checks: Sequence[HostFilter] | None = None
) -> list[HostState]:
    """Return the hosts every filter (default: the enabled ones) passes."""
    checks = enabled_filters() if checks is None else checks
    return [host for host in hosts if all(check(host, spec) for check in checks)]


def weigh_by_free_ram(hosts: list[HostState]) -> list[HostState]:
    """Return hosts best first: most free RAM (spreads instances), then by name."""
    return sorted(hosts, key=lambda host: (-host.free_ram_mb, host.host))
