"""The data API of services and compute nodes: heartbeats, capacity, claims.

Claims are one conditional UPDATE each, so two schedulers can never promise
the same room on a host: the row only changes if the resources still fit.
"""

from __future__ import annotations

import datetime
from typing import Any

import sqlalchemy as sa

from nova import context as nova_context
from nova.db import instances
from nova.db import models
from nova.db import records
from nova.db import session

_services = models.Base.metadata.tables["services"]
_nodes = models.Base.metadata.tables["compute_nodes"]

_SERVICE = sa.select(_services).where(
    _services.c.host == sa.bindparam("host"),
    _services.c.binary == sa.bindparam("binary"),
    _services.c.deleted == 0,
)


def service_get_or_create(
    context: nova_context.RequestContext, host: str, binary: str, values: dict[str, Any]
) -> records.Service:
    """Return the live service ``binary`` on ``host``, creating it if needed."""
    with session.writer(context) as conn:
        row = conn.execute(_SERVICE, {"host": host, "binary": binary}).first()
        if row is not None:
            return records.Service._make(row)
        created = session.insert_row(
            conn, _services, {"host": host, "binary": binary, "report_count": 0, **values}
        )
    return records.Service(**created)


_HEARTBEAT = (
    sa.update(_services)
    .where(_services.c.id == sa.bindparam("service_id"))
    .values(report_count=_services.c.report_count + 1, updated_at=sa.bindparam("now"))
)


def service_heartbeat(context: nova_context.RequestContext, service_id: int) -> None:
    """Record that a service is alive now."""
    with session.writer(context) as conn:
        conn.execute(_HEARTBEAT, {"service_id": service_id, "now": models.utcnow()})


def service_is_up(service: records.Service, down_time: int) -> bool:
    """Tell whether a service's last heartbeat is younger than ``down_time`` seconds."""
    last = service.updated_at or service.created_at
    if last is None:
        return False
    return models.utcnow() - last < datetime.timedelta(seconds=down_time)


_COMPUTE_HOSTS = (
    sa.select(_services, _nodes)
    .outerjoin(_nodes, sa.and_(_nodes.c.host == _services.c.host, _nodes.c.deleted == 0))
    .where(_services.c.binary == "nova-compute", _services.c.deleted == 0)
    .order_by(_services.c.host)
)


def compute_hosts(
    context: nova_context.RequestContext,
) -> list[tuple[records.Service, records.ComputeNode | None]]:
    """Return every live nova-compute service with its compute node (or None)."""
    split = len(_services.columns)
    with session.reader(context, single_statement=True) as conn:
        rows = conn.execute(_COMPUTE_HOSTS).all()
    return [
        (
            records.Service._make(row[:split]),
            None if row[split] is None else records.ComputeNode._make(row[split:]),
        )
        for row in rows
    ]


_NODE = sa.select(_nodes).where(_nodes.c.host == sa.bindparam("host"), _nodes.c.deleted == 0)


def compute_node_update(
    context: nova_context.RequestContext, host: str, service_id: int, capacity: dict[str, Any]
) -> records.ComputeNode:
    """Record a host's capacity (vcpus, memory_mb, local_gb, hypervisor_type)."""
    values = {**capacity, "service_id": service_id}
    with session.writer(context) as conn:
        row = conn.execute(_NODE, {"host": host}).first()
        if row is None:
            return records.ComputeNode(**session.insert_row(conn, _nodes, {"host": host, **values}))
        values["updated_at"] = models.utcnow()
        conn.execute(sa.update(_nodes).where(_nodes.c.id == row.id).values(values))
    return records.ComputeNode._make(row)._replace(**values)


def _room(column: str, ratio: str) -> sa.ColumnElement[bool]:
    used, total = _nodes.c[f"{column}_used"], _nodes.c[column]
    return used + sa.bindparam(f"add_{column}", type_=sa.Integer) <= total * sa.bindparam(
        ratio, type_=sa.Float
    )


def _released(column: str, amount: sa.ColumnElement[int]) -> sa.ColumnElement[int]:
    left = _nodes.c[column] - amount
    return sa.case((left < 0, 0), else_=left)


# Built once: a claim is made for every instance scheduled.
_CLAIM = (
    sa.update(_nodes)
    .where(
        _nodes.c.host == sa.bindparam("node_host"),
        _nodes.c.deleted == 0,
        _room("memory_mb", "ram"),
        _room("vcpus", "cpu"),
        _room("local_gb", "disk"),
    )
    .values(
        memory_mb_used=_nodes.c.memory_mb_used + sa.bindparam("add_memory_mb"),
        vcpus_used=_nodes.c.vcpus_used + sa.bindparam("add_vcpus"),
        local_gb_used=_nodes.c.local_gb_used + sa.bindparam("add_local_gb"),
        running_vms=_nodes.c.running_vms + 1,
    )
)
_RELEASE = (
    sa.update(_nodes)
    .where(_nodes.c.host == sa.bindparam("node_host"), _nodes.c.deleted == 0)
    .values(
        memory_mb_used=_released("memory_mb_used", sa.bindparam("sub_memory_mb", type_=sa.Integer)),
        vcpus_used=_released("vcpus_used", sa.bindparam("sub_vcpus", type_=sa.Integer)),
        local_gb_used=_released("local_gb_used", sa.bindparam("sub_local_gb", type_=sa.Integer)),
        running_vms=_released("running_vms", sa.literal(1)),
    )
)


class _NotUpdated(Exception):
    """Raised to roll a claim back when the instance did not qualify."""


def instance_claim(
    context: nova_context.RequestContext,
    instance_uuid: str,
    host: str,
    ratios: dict[str, float],
    resources: tuple[int, int, int],
    values: dict[str, Any],
    expected: dict[str, Any],
) -> records.Instance | None:
    """Claim ``resources`` (memory MB, vCPUs, disk GB) on ``host`` and update the instance.

    One transaction: the room is taken and the instance updated
    (``instance_update`` with ``values`` and ``expected``), or neither.
    Return the updated instance, or None if the host has no room left.

    :raises nova.exception.InstanceNotFound: the instance is gone (nothing taken).
    :raises nova.exception.InstanceInvalidState: it no longer matches ``expected``.
    """
    memory_mb, vcpus, local_gb = resources
    params = {
        "node_host": host,
        "add_memory_mb": memory_mb,
        "add_vcpus": vcpus,
        "add_local_gb": local_gb,
        "ram": ratios["ram"],
        "cpu": ratios["cpu"],
        "disk": ratios["disk"],
    }
    try:
        with session.writer(context) as conn:
            if conn.execute(_CLAIM, params).rowcount != 1:
                return None
            updated = instances.instance_update_in(conn, context, instance_uuid, values, expected)
            if updated is None:
                raise _NotUpdated  # rolls the claim back
    except _NotUpdated:
        raise instances.instance_update_refused(context, instance_uuid, expected) from None
    return updated


def compute_node_release(
    context: nova_context.RequestContext, host: str, memory_mb: int, vcpus: int, local_gb: int
) -> None:
    """Give back what a claim took on ``host`` (never below zero)."""
    params = {
        "node_host": host,
        "sub_memory_mb": memory_mb,
        "sub_vcpus": vcpus,
        "sub_local_gb": local_gb,
    }
    with session.writer(context) as conn:
        conn.execute(_RELEASE, params)


def service_get(
    context: nova_context.RequestContext, host: str, binary: str
) -> records.Service | None:
    """Return the live service ``binary`` on ``host``, or None."""
    with session.reader(context, single_statement=True) as conn:
        row = conn.execute(_SERVICE, {"host": host, "binary": binary}).first()
    return None if row is None else records.Service._make(row)


_faults = models.Base.metadata.tables["instance_faults"]


def _release_params(host: str, instance: records.Instance) -> dict[str, Any]:
    return {
        "node_host": host,
        "sub_memory_mb": instance.memory_mb or 0,
        "sub_vcpus": instance.vcpus or 0,
        "sub_local_gb": instance.root_gb or 0,
    }


def instance_take_from_host(
    context: nova_context.RequestContext,
    instance_uuid: str,
    host: str,
    values: dict[str, Any],
    expected: dict[str, Any],
    fault: dict[str, Any],
) -> records.Instance | None:
    """Take an instance off ``host``: update it, give back its claim there, record ``fault``.

    One transaction: the update (``instance_update`` with ``values`` and
    ``expected``, which should expect ``host``), the release of what the
    instance claimed on ``host`` and the fault (``code``, ``message``,
    ``details``, ``host``), or nothing. Return the updated instance, or None
    if it did not qualify (gone, or changed meanwhile: another taker won).
    """
    with session.writer(context) as conn:
        updated = instances.instance_update_in(conn, context, instance_uuid, values, expected)
        if updated is None:
            return None
        conn.execute(_RELEASE, _release_params(host, updated))
        session.insert_row(conn, _faults, {"instance_id": updated.id, **fault})
    return updated


def instance_destroy_releasing(
    context: nova_context.RequestContext, instance: records.Instance, holding: tuple[str, ...]
) -> None:
    """Soft-delete ``instance`` and, if its ``vm_state`` is one of ``holding``, release its claim.

    One transaction; the claim is the one on ``instance.host``. ``instance``
    is the record read when the caller took the delete over (task state
    ``deleting``), so no one else releases the claim meanwhile.

    :raises nova.exception.InstanceNotFound: it is gone (nothing released).
    """
    with session.writer(context) as conn:
        instances.instance_destroy_in(conn, context, instance.uuid)
        if instance.host and instance.vm_state in holding:
            conn.execute(_RELEASE, _release_params(instance.host, instance))
