"""Quotas: each project's limits (``[quota]`` defaults, or its own) and the checks at create.

The resources Nova 2.1's ``os-quota-sets`` shows, in its names. Those this
cloud counts: ``instances``, ``cores``, ``ram`` (a project's live servers,
whatever their state), ``key_pairs`` (per user) and ``metadata_items`` (per
server). ``injected_files``, ``injected_file_content_bytes``,
``injected_file_path_bytes``, ``server_groups`` and
``server_group_members`` are shown with their limits (there are no injected
files or server groups here); the network ones Nova 2.1 still shows
(``fixed_ips``, ``floating_ips``, ``security_groups``,
``security_group_rules``) are -1 (unlimited), as in Nova since the network
quotas went to Neutron, and cannot be set.
"""

from __future__ import annotations

from collections.abc import Mapping

import nova.conf
from nova import context as nova_context
from nova import exception
from nova.db import quotas as quota_db

CONF = nova.conf.CONF

#: Resource -> its ``[quota]`` option (the settable ones).
SETTABLE = {
    "instances": "instances",
    "cores": "cores",
    "ram": "ram",
    "metadata_items": "metadata_items",
    "injected_files": "injected_files",
    "injected_file_content_bytes": "injected_file_content_bytes",
    "injected_file_path_bytes": "injected_file_path_length",
    "key_pairs": "key_pairs",
    "server_groups": "server_groups",
    "server_group_members": "server_group_members",
}
#: Shown by Nova 2.1 as unlimited; not settable here (Neutron's quotas in Nova).
NETWORK = ("fixed_ips", "floating_ips", "security_groups", "security_group_rules")
#: Resources whose usage is counted, and that a new limit may not go below (without force).
COUNTED = ("instances", "cores", "ram", "key_pairs")

UNLIMITED = -1


def defaults() -> dict[str, int]:
    """Return the default limits (``[quota]``), every resource Nova 2.1 shows."""
    limits = {resource: getattr(CONF.quota, option) for resource, option in SETTABLE.items()}
    limits.update(dict.fromkeys(NETWORK, UNLIMITED))
    return limits


def merged(own: Mapping[str, int]) -> dict[str, int]:
    """Return the defaults overridden by a project's own limits."""
    limits = defaults()
    limits.update((resource, limit) for resource, limit in own.items() if resource in SETTABLE)
    return limits


def get_limits(context: nova_context.RequestContext, project_id: str) -> dict[str, int]:
    """Return the limits of ``project_id``: its own, else the defaults."""
    return merged(quota_db.quota_get_all(context, project_id))


def get_usage(
    context: nova_context.RequestContext, project_id: str, user_id: str | None = None
) -> dict[str, int]:
    """Return the usage of ``project_id`` (and the key pairs of ``user_id``), counted now."""
    return quota_db.usage_get(context, project_id, user_id)


def _headroom(limit: int, used: int) -> int | None:
    """Return how much is left under ``limit`` (None: unlimited)."""
    return None if limit < 0 else max(limit - used, 0)


def allowed_instances(
    limits: Mapping[str, int],
    usage: Mapping[str, int],
    vcpus: int,
    memory_mb: int,
    min_count: int,
    max_count: int,
) -> int:
    """Return how many servers of a flavor to create: ``max_count``, or fewer down to ``min_count``.

    As Nova: a request for ``min_count``..``max_count`` servers gets as many
    as fit in every limit (instances, cores, ram), if that is ``min_count``
    at least.

    :raises nova.exception.TooManyInstances: not even ``min_count`` fit (403),
        in Nova's words ("Quota exceeded for instances: Requested 1, but
        already used 10 of 10 instances").
    """
    per_server = {"instances": 1, "cores": vcpus, "ram": memory_mb}
    allowed = max_count
    for resource, each in per_server.items():
        room = _headroom(limits[resource], usage[resource])
        if room is not None and each > 0:
            allowed = min(allowed, room // each)
    if allowed >= min_count:
        return allowed
    # Nova's message: the whole request (cores and ram of max_count servers;
    # instances as "min-max" when they differ), for each limit it goes over.
    deltas = {resource: each * max_count for resource, each in per_server.items()}
    requested: dict[str, object] = dict(deltas)
    if min_count != max_count:
        requested["instances"] = f"{min_count}-{max_count}"
    overs = [
        resource
        for resource in per_server
        if limits[resource] >= 0 and usage[resource] + deltas[resource] > limits[resource]
    ]
    raise exception.TooManyInstances(
        overs=", ".join(overs),
        req=", ".join(str(requested[o]) for o in overs),
        used=", ".join(str(usage[o]) for o in overs),
        allowed=", ".join(str(limits[o]) for o in overs),
    )


def check_metadata(limits: Mapping[str, int], metadata: Mapping[str, str] | None) -> None:
    """Refuse more metadata items than ``metadata_items`` allows.

    :raises nova.exception.MetadataLimitExceeded: too many (403).
    """
    allowed = limits["metadata_items"]
    if metadata and 0 <= allowed < len(metadata):
        raise exception.MetadataLimitExceeded(allowed=allowed)


def check_key_pairs(limits: Mapping[str, int], used: int) -> None:
    """Refuse one more key pair over ``key_pairs``.

    :raises nova.exception.KeypairLimitExceeded: the user has as many as allowed (403).
    """
    if 0 <= limits["key_pairs"] <= used:
        raise exception.KeypairLimitExceeded()


def update_limits(
    context: nova_context.RequestContext,
    project_id: str,
    limits: Mapping[str, int],
    force: bool = False,
) -> None:
    """Set limits of ``project_id``; without ``force`` none may go below what is used.

    :raises nova.exception.QuotaBelowUsage: one would (400), nothing is set.
    """
    if not force:
        usage = get_usage(context, project_id)
        for resource in COUNTED:
            if resource in limits and resource in usage:
                if 0 <= limits[resource] < usage[resource]:
                    raise exception.QuotaBelowUsage(
                        limit=limits[resource], resource=resource, minimum=usage[resource]
                    )
    quota_db.quota_set(context, project_id, limits)


def reset_limits(context: nova_context.RequestContext, project_id: str) -> None:
    """Give ``project_id`` the default limits again."""
    quota_db.quota_destroy_all(context, project_id)
