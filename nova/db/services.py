"""The data API of services and compute nodes: heartbeats, capacity, claims.

Claims are one conditional UPDATE each, so two schedulers can never promise
the same room on a host: the row only changes if the resources still fit.

An instance holds a claim on its host while it has a ``host`` and its
``vm_state`` is one of ``CLAIMED_STATES``; the host's usage is the sum of
those claims. Every write that moves an instance into or out of that set
changes the usage in the same transaction (``instance_claim``,
``instance_transition``), after locking the host's ``compute_nodes`` row, so
usage and instances never disagree and ``compute_node_audit`` (which locks the
row too, then counts) sees them consistent.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from nova import context as nova_context
from nova import exception
from nova.db import instances
from nova.db import models
from nova.db import records
from nova.db import session

LOG = logging.getLogger(__name__)

_services = models.Base.metadata.tables["services"]
_nodes = models.Base.metadata.tables["compute_nodes"]
_instances = models.Base.metadata.tables["instances"]
_faults = models.Base.metadata.tables["instance_faults"]

#: The ``vm_state`` values of an instance whose resources count on its host
#: ("stopped": a guest that is shut off keeps its room, as in Nova).
CLAIMED_STATES = ("building", "active", "stopped")
#: The usage columns of ``compute_nodes`` and how an audit recomputes each.
USAGE = ("memory_mb_used", "vcpus_used", "local_gb_used", "running_vms")

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


#: The same, most free RAM first (over-committed by ``:ram_ratio``), the
#: first ``:limit`` only: the database sorts, the scheduler reads a few rows.
_COMPUTE_HOSTS_BY_FREE_RAM = (
    _COMPUTE_HOSTS.order_by(None)
    .order_by(
        sa.func.coalesce(
            _nodes.c.memory_mb * sa.bindparam("ram_ratio", type_=sa.Float)
            - _nodes.c.memory_mb_used,
            0,
        ).desc(),
        _services.c.host,
    )
    .limit(sa.bindparam("limit"))
)


def compute_hosts(
    context: nova_context.RequestContext,
    most_free_ram: tuple[float, int] | None = None,
) -> list[tuple[records.Service, records.ComputeNode | None]]:
    """Return every live nova-compute service with its compute node (or None).

    :param most_free_ram: ``(RAM allocation ratio, count)``: only the
        ``count`` hosts with the most free RAM, most first.
    """
    split = len(_services.columns)
    if most_free_ram is None:
        statement, params = _COMPUTE_HOSTS, {}
    else:
        ratio, count = most_free_ram
        statement, params = _COMPUTE_HOSTS_BY_FREE_RAM, {"ram_ratio": ratio, "limit": count}
    with session.reader(context, single_statement=True) as conn:
        rows = conn.execute(statement, params).all()
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
    return used + sa.bindparam(f"amount_{column}", type_=sa.Integer) <= total * sa.bindparam(
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
        memory_mb_used=_nodes.c.memory_mb_used + sa.bindparam("amount_memory_mb"),
        vcpus_used=_nodes.c.vcpus_used + sa.bindparam("amount_vcpus"),
        local_gb_used=_nodes.c.local_gb_used + sa.bindparam("amount_local_gb"),
        running_vms=_nodes.c.running_vms + 1,
    )
)
_RELEASE = (
    sa.update(_nodes)
    .where(_nodes.c.host == sa.bindparam("node_host"), _nodes.c.deleted == 0)
    .values(
        memory_mb_used=_released(
            "memory_mb_used", sa.bindparam("amount_memory_mb", type_=sa.Integer)
        ),
        vcpus_used=_released("vcpus_used", sa.bindparam("amount_vcpus", type_=sa.Integer)),
        local_gb_used=_released("local_gb_used", sa.bindparam("amount_local_gb", type_=sa.Integer)),
        running_vms=_released("running_vms", sa.literal(1)),
    )
)


# Takes room without checking it: only ``instance_transition`` uses it, when
# an operator's state reset (os-resetState) puts an instance back in a claimed
# state on its host (the guest is there, so its resources are used).
_TAKE = (
    sa.update(_nodes)
    .where(_nodes.c.host == sa.bindparam("node_host"), _nodes.c.deleted == 0)
    .values(
        memory_mb_used=_nodes.c.memory_mb_used + sa.bindparam("amount_memory_mb", type_=sa.Integer),
        vcpus_used=_nodes.c.vcpus_used + sa.bindparam("amount_vcpus", type_=sa.Integer),
        local_gb_used=_nodes.c.local_gb_used + sa.bindparam("amount_local_gb", type_=sa.Integer),
        running_vms=_nodes.c.running_vms + 1,
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
        **_amounts(host, memory_mb, vcpus, local_gb),
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
    with session.writer(context) as conn:
        conn.execute(_RELEASE, _amounts(host, memory_mb, vcpus, local_gb))


def holds_claim(instance: records.Instance) -> bool:
    """Tell whether ``instance``'s resources count in its host's usage."""
    return instance.host is not None and instance.vm_state in CLAIMED_STATES


_LOCK_NODE = (
    sa.select(_nodes.c.id)
    .where(_nodes.c.host == sa.bindparam("node_host"), _nodes.c.deleted == 0)
    .with_for_update()
)


def _lock_node(conn: sa.Connection, host: str) -> None:
    """Take the row lock of ``host``'s compute node (claims and releases take it first)."""
    conn.execute(_LOCK_NODE, {"node_host": host})


def _amounts(host: str, memory_mb: int, vcpus: int, local_gb: int) -> dict[str, Any]:
    """Return the parameters of ``_RELEASE`` and ``_TAKE``: what moves on ``host``."""
    return {
        "node_host": host,
        "amount_memory_mb": memory_mb,
        "amount_vcpus": vcpus,
        "amount_local_gb": local_gb,
    }


def _instance_amounts(instance: records.Instance) -> dict[str, Any]:
    assert instance.host is not None  # it holds a claim
    return _amounts(
        instance.host, instance.memory_mb or 0, instance.vcpus or 0, instance.root_gb or 0
    )


def _matches(instance: records.Instance, expected: Mapping[str, Any]) -> bool:
    for column, value in expected.items():
        current = getattr(instance, column)
        if isinstance(value, (list, tuple, set, frozenset)):
            if current not in value:
                return False
        elif current != value:
            return False
    return True


#: Times ``instance_transition`` reads an instance again that changed under it.
_TRANSITION_ATTEMPTS = 5


def instance_transition(
    context: nova_context.RequestContext,
    instance_uuid: str,
    values: Mapping[str, Any] | None = None,
    expected: Mapping[str, Any] | None = None,
    fault: Mapping[str, Any] | None = None,
    destroy: bool = False,
) -> records.Instance:
    """Update (or, with ``destroy``, soft-delete) an instance, giving its claim back if it ends.

    If the instance holds a claim (``holds_claim``) and will not after the
    write (it is destroyed, or leaves ``CLAIMED_STATES`` or its host), its
    resources are released from its host's usage in the same transaction,
    so a claim is given back exactly once, by whichever write ends it. The
    other way round (only an operator's state reset does that: a placement
    claims with ``instance_claim``, which checks for room), the write that
    makes it hold a claim adds its resources to its host's usage, room or
    not. A ``fault`` (``code``, ``message``, ``details``, ``host``) is
    recorded in that transaction too.

    :param expected: as ``instance_update``'s.
    :raises nova.exception.InstanceNotFound: it is gone (in the project).
    :raises nova.exception.InstanceInvalidState: ``expected`` did not match.
    """
    values = dict(values or {})
    expected = dict(expected or {})
    for _attempt in range(_TRANSITION_ATTEMPTS):
        current = instances.instance_get_by_uuid(context, instance_uuid)
        if not _matches(current, expected):
            break
        after = current._replace(**values)
        releases = holds_claim(current) and (destroy or not holds_claim(after))
        takes = not destroy and not holds_claim(current) and holds_claim(after)
        # What decides the claim must still hold when the row is written.
        guard = {**expected, "host": current.host, "vm_state": current.vm_state}
        with session.writer(context) as conn:
            if releases or takes:
                locked = current.host if releases else after.host
                assert locked is not None  # holds_claim
                _lock_node(conn, locked)
            if destroy:
                written = instances.instance_destroy_in(conn, context, instance_uuid, guard)
            else:
                written = instances.instance_update_in(conn, context, instance_uuid, values, guard)
            if written is None:
                continue  # changed since it was read (nothing written): read it again
            if releases:
                conn.execute(_RELEASE, _instance_amounts(current))
            if takes:
                conn.execute(_TAKE, _instance_amounts(after))
            if fault is not None:
                session.insert_row(conn, _faults, {"instance_id": current.id, **fault})
        if releases:
            LOG.debug("Released the claim of %s on %s", instance_uuid, current.host)
        if takes:
            LOG.info("Took the resources of %s on %s again", instance_uuid, after.host)
        return written
    raise instances.instance_update_refused(context, instance_uuid, expected)


def instance_set_error(
    context: nova_context.RequestContext,
    instance_uuid: str,
    fault: Mapping[str, Any],
    expected: Mapping[str, Any] | None = None,
) -> records.Instance:
    """Put an instance in ERROR with ``fault``, releasing its claim if it held one.

    :raises nova.exception.InstanceNotFound: it is gone.
    :raises nova.exception.InstanceInvalidState: ``expected`` did not match.
    """
    return instance_transition(
        context,
        instance_uuid,
        {"vm_state": "error", "task_state": None},
        expected,
        fault=fault,
    )


#: The states an operator may reset an instance to (Nova's os-resetState).
RESET_STATES = ("active", "error")


def instance_reset_state(
    context: nova_context.RequestContext, instance_uuid: str, vm_state: str
) -> tuple[records.Instance, records.Instance]:
    """Set an instance's ``vm_state`` (``RESET_STATES``) and clear its ``task_state``.

    Whatever it was doing (Nova's ``os-resetState``). Its claim follows
    (``instance_transition``): given back when it goes to error, taken again
    when an instance on a host goes back to active. Return the instance
    before and after.

    :raises nova.exception.Invalid: ``vm_state`` is not one of ``RESET_STATES``.
    :raises nova.exception.InstanceNotFound: it is gone (in the project).
    """
    if vm_state not in RESET_STATES:
        raise exception.Invalid(
            reason=f"Invalid state {vm_state!r}: {' or '.join(RESET_STATES)} is required."
        )
    before = instances.instance_get_by_uuid(context, instance_uuid)
    after = instance_transition(context, instance_uuid, {"vm_state": vm_state, "task_state": None})
    LOG.info(
        "Reset the state of %s to %s (was %s, task %s)",
        instance_uuid,
        vm_state,
        before.vm_state,
        before.task_state,
    )
    return before, after


_USAGE_OF_HOST = sa.select(
    sa.func.coalesce(sa.func.sum(_instances.c.memory_mb), 0),
    sa.func.coalesce(sa.func.sum(_instances.c.vcpus), 0),
    sa.func.coalesce(sa.func.sum(_instances.c.root_gb), 0),
    sa.func.count(_instances.c.id),
).where(
    _instances.c.host == sa.bindparam("node_host"),
    _instances.c.deleted == 0,
    _instances.c.vm_state.in_(CLAIMED_STATES),
)
_NODE_USAGE = sa.select(*(_nodes.c[column] for column in USAGE)).where(
    _nodes.c.host == sa.bindparam("node_host"), _nodes.c.deleted == 0
)
_SET_USAGE = (
    sa.update(_nodes)
    .where(_nodes.c.host == sa.bindparam("node_host"), _nodes.c.deleted == 0)
    .values({column: sa.bindparam(f"set_{column}") for column in USAGE})
)


def compute_node_audit(
    context: nova_context.RequestContext, host: str
) -> tuple[dict[str, int], dict[str, int]] | None:
    """Recompute ``host``'s usage from the live instances that hold claims there.

    One transaction, the node's row locked before the instances are
    counted. Return ``(before, after)`` (``{column: value}`` of ``USAGE``)
    if the usage was wrong and has been corrected, None if it was right.

    :raises nova.exception.ComputeHostNotFound: ``host`` has no compute node.
    """
    with session.writer(context) as conn:
        _lock_node(conn, host)
        row = conn.execute(_NODE_USAGE, {"node_host": host}).first()
        if row is None:
            return None
        before = dict(zip(USAGE, row, strict=True))
        counted = conn.execute(_USAGE_OF_HOST, {"node_host": host}).one()
        after = dict(zip(USAGE, (int(value) for value in counted), strict=True))
        if after == before:
            return None
        conn.execute(
            _SET_USAGE,
            {"node_host": host, **{f"set_{column}": value for column, value in after.items()}},
        )
    return before, after


def service_get(
    context: nova_context.RequestContext, host: str, binary: str
) -> records.Service | None:
    """Return the live service ``binary`` on ``host``, or None."""
    with session.reader(context, single_statement=True) as conn:
        row = conn.execute(_SERVICE, {"host": host, "binary": binary}).first()
    return None if row is None else records.Service._make(row)


def instance_take_from_host(
    context: nova_context.RequestContext,
    instance_uuid: str,
    host: str,
    values: Mapping[str, Any],
    expected: Mapping[str, Any],
    fault: Mapping[str, Any],
) -> records.Instance | None:
    """Take an instance off ``host``: update it, give back its claim there, record ``fault``.

    ``instance_transition`` with ``values`` and ``expected`` (which should
    expect ``host``): one transaction, or nothing. Return the updated
    instance, or None if it did not qualify (gone, or changed meanwhile:
    another taker won).
    """
    try:
        expected = {**expected, "host": host}
        return instance_transition(context, instance_uuid, values, expected, fault)
    except (exception.InstanceNotFound, exception.InstanceInvalidState):
        return None


# --- the admin API: os-services and os-hypervisors --------------------------------

_ALL_SERVICES = sa.select(_services).where(_services.c.deleted == 0).order_by(_services.c.id)
_SERVICE_BY_ID = sa.select(_services).where(
    _services.c.id == sa.bindparam("service_id"), _services.c.deleted == 0
)
_INSTANCES_ON_HOST = sa.select(sa.func.count(_instances.c.id)).where(
    _instances.c.host == sa.bindparam("node_host"), _instances.c.deleted == 0
)


def service_get_all(context: nova_context.RequestContext) -> list[records.Service]:
    """Return every live service, oldest first."""
    with session.reader(context, single_statement=True) as conn:
        return [records.Service._make(row) for row in conn.execute(_ALL_SERVICES)]


def service_update(
    context: nova_context.RequestContext, host: str, binary: str, values: Mapping[str, Any]
) -> records.Service:
    """Update the live service ``binary`` on ``host`` (``disabled``, ``disabled_reason``).

    :raises nova.exception.HostBinaryNotFound: no such service.
    """
    with session.writer(context) as conn:
        row = session.one_or_raise(
            conn,
            _SERVICE,
            exception.HostBinaryNotFound(host=host, binary=binary),
            {"host": host, "binary": binary},
        )
        # updated_at is the heartbeat's: an operator's change does not make a service up.
        conn.execute(
            sa.update(_services)
            .where(_services.c.id == row.id)
            .values(values)
            .values(updated_at=_services.c.updated_at)
        )
    return records.Service._make(row)._replace(**values)


def service_destroy(context: nova_context.RequestContext, service_id: int) -> records.Service:
    """Soft-delete a live service; a compute service goes with its compute node.

    :raises nova.exception.ServiceNotFound: no such service.
    :raises nova.exception.Conflict: a compute service whose host still has
        (live) instances.
    """
    with session.writer(context) as conn:
        row = session.one_or_raise(
            conn,
            _SERVICE_BY_ID,
            exception.ServiceNotFound(service_id=service_id),
            {"service_id": service_id},
        )
        if row.binary == "nova-compute":
            _lock_node(conn, row.host)
            if conn.execute(_INSTANCES_ON_HOST, {"node_host": row.host}).scalar_one():
                raise exception.Conflict(
                    reason="Unable to delete compute service that is hosting instances. "
                    "Migrate or delete the instances first."
                )
            conn.execute(
                sa.update(_nodes)
                .where(_nodes.c.host == row.host, _nodes.c.deleted == 0)
                .values(session.soft_delete_values(_nodes))
            )
        conn.execute(
            sa.update(_services)
            .where(_services.c.id == row.id)
            .values(session.soft_delete_values(_services))
        )
    return records.Service._make(row)


_WORKLOADS = (
    sa.select(_instances.c.host, sa.func.count(_instances.c.id))
    .where(
        _instances.c.host.is_not(None),
        _instances.c.deleted == 0,
        _instances.c.task_state.is_not(None),
    )
    .group_by(_instances.c.host)
)


_INSTANCE_COUNTS = (
    sa.select(_instances.c.host, sa.func.count(_instances.c.id))
    .where(_instances.c.host.is_not(None), _instances.c.deleted == 0)
    .group_by(_instances.c.host)
)


def instance_counts(context: nova_context.RequestContext) -> dict[str, int]:
    """Return ``{host: live instances on it, whatever their state}``."""
    with session.reader(context, single_statement=True) as conn:
        return {host: count for host, count in conn.execute(_INSTANCE_COUNTS)}


def compute_workloads(context: nova_context.RequestContext) -> dict[str, int]:
    """Return ``{host: instances with a task in progress}`` (Nova's ``current_workload``)."""
    with session.reader(context, single_statement=True) as conn:
        return {host: count for host, count in conn.execute(_WORKLOADS)}
