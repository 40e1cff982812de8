"""Host filters: each says whether a host can take an instance, and if not, why.

A filter returns True to keep the host; to drop it, False or (better) a
``Rejected`` with the reason, which is false too. ``why_no_host`` turns the
reasons into the words of the "No valid host was found" fault.
"""

from __future__ import annotations

import collections
import dataclasses
import math
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


@dataclasses.dataclass(frozen=True)
class Rejected:
    """A filter's "no", with why; false, as the False a filter may return instead."""

    reason: str

    def __bool__(self) -> bool:
        return False


def compute_filter(host: HostState, spec: RequestSpec) -> bool | Rejected:
    """Pass hosts whose compute service is up and enabled (and not excluded)."""
    if not host.up:
        return Rejected(f"down: no heartbeat for {CONF.service_down_time} s")
    if not host.enabled:
        return Rejected("disabled")
    if host.host in spec.excluded_hosts:
        return Rejected("tried already")
    return True


def _room(needs: str, free: float, unit: str, total: int, ratio_option: str) -> Rejected:
    """Return the rejection of a host short of one resource, its ratio applied."""
    ratio = getattr(CONF, ratio_option)
    return Rejected(
        f"needs {needs}, {math.floor(free)}{unit} free of {total}{unit} * {ratio_option} {ratio:g}"
    )


def ram_filter(host: HostState, spec: RequestSpec) -> bool | Rejected:
    """Pass hosts with room for the instance's RAM, over-committed by the ratio."""
    if host.free_ram_mb >= spec.memory_mb:
        return True
    return _room(
        f"{spec.memory_mb} MB", host.free_ram_mb, " MB", host.memory_mb, "ram_allocation_ratio"
    )


def core_filter(host: HostState, spec: RequestSpec) -> bool | Rejected:
    """Pass hosts with room for the instance's vCPUs."""
    free = host.vcpus * CONF.cpu_allocation_ratio - host.vcpus_used
    if free >= spec.vcpus:
        return True
    return _room(f"{spec.vcpus} vCPUs", free, "", host.vcpus, "cpu_allocation_ratio")


def disk_filter(host: HostState, spec: RequestSpec) -> bool | Rejected:
    """Pass hosts with room for the instance's root disk."""
    free = host.local_gb * CONF.disk_allocation_ratio - host.local_gb_used
    if free >= spec.root_gb:
        return True
    return _room(f"{spec.root_gb} GB", free, " GB", host.local_gb, "disk_allocation_ratio")


def availability_zone_filter(host: HostState, spec: RequestSpec) -> bool | Rejected:
    """Pass hosts in the zone the instance asked for (any, if none)."""
    if not spec.availability_zone or host.availability_zone == spec.availability_zone:
        return True
    return Rejected(f"in zone {host.availability_zone}, not {spec.availability_zone}")


#: Entry-point group of the filters (``setup.py``), named in
#: ``[filter_scheduler] enabled_filters``.
NAMESPACE = "nova.scheduler.filters"

HostFilter = Callable[[HostState, RequestSpec], "bool | Rejected"]


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


#: Distinct reasons of one filter shown in the fault; the others are counted.
SHOWN_REASONS = 2


def why_no_host(
    hosts: Sequence[HostState], spec: RequestSpec, names: Sequence[str] | None = None
) -> str:
    """Return how many hosts there are and, per filter, how many it removed and why.

    As the filters run: in order, each on the hosts the ones before kept
    (``names``: default the enabled ones). E.g. "2 hosts: ComputeFilter
    removed 1 (disabled), RamFilter removed 1 (needs 512 MB, 0 MB free of
    3072 MB * ram_allocation_ratio 1.5)".
    """
    names = tuple(CONF.filter_scheduler.enabled_filters) if names is None else tuple(names)
    if not hosts:
        return "0 hosts: no nova-compute service is registered"
    remaining = list(hosts)
    parts = []
    for name, check in zip(names, load_filters(names), strict=True):
        kept, reasons = [], collections.Counter[str]()
        for host in remaining:
            result = check(host, spec)
            if result:
                kept.append(host)
            else:
                reasons[result.reason if isinstance(result, Rejected) else "no reason given"] += 1
        if reasons:
            parts.append(f"{name} removed {len(remaining) - len(kept)} ({_summary(reasons)})")
        remaining = kept
    if remaining:
        # Every filter passed them when asked again: they were full when claimed.
        parts.append(f"{len(remaining)} passed the filters but other placements took the room")
    return f"{len(hosts)} host{'' if len(hosts) == 1 else 's'}: " + ", ".join(parts)


def _summary(reasons: collections.Counter[str]) -> str:
    """Return one filter's reasons: the reason, or the commonest ones with their counts."""
    if len(reasons) == 1:
        return next(iter(reasons))
    common = reasons.most_common(SHOWN_REASONS)
    text = "; ".join(f"{count}: {reason}" for reason, count in common)
    others = sum(reasons.values()) - sum(count for _reason, count in common)
    return text + (f"; {others} for other reasons" if others else "")


def weigh_by_free_ram(hosts: list[HostState]) -> list[HostState]:
    """Return hosts best first: most free RAM (spreads instances), then by name."""
    return sorted(hosts, key=lambda host: (-host.free_ram_mb, host.host))
