"""Host filters: each says whether a host can take an instance."""

from __future__ import annotations

import dataclasses

import nova.conf

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


FILTERS = (compute_filter, ram_filter, core_filter, disk_filter, availability_zone_filter)


def filter_hosts(hosts: list[HostState], spec: RequestSpec) -> list[HostState]:
    """Return the hosts every filter passes."""
    return [host for host in hosts if all(check(host, spec) for check in FILTERS)]


def weigh_by_free_ram(hosts: list[HostState]) -> list[HostState]:
    """Return hosts best first: most free RAM (spreads instances), then by name."""
    return sorted(hosts, key=lambda host: (-host.free_ram_mb, host.host))
