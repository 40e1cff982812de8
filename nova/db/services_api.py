"""The database API of services and compute nodes: heartbeats, capacity, claims.

Claims are one conditional UPDATE each, so two schedulers can never promise
the same room on a host: the row only changes if the resources still fit.
"""

from __future__ import annotations

import datetime
from typing import Any

import sqlalchemy as sa

from nova import context as nova_context
from nova.db import models
from nova.db import prepared
from nova.db.api import InstanceRecord
from nova.db.api import _record_type
from nova.db.api import _transaction
from nova.db.api import get_engine
from nova.db.api import instance_update_in
from nova.db.api import instance_update_refused


def service_get_or_create(
    context: nova_context.RequestContext, host: str, binary: str, values: dict[str, Any]
) -> models.Service:
    """Return the live service ``binary`` on ``host``, creating it if needed."""
    query = sa.select(models.Service).where(
        models.Service.host == host, models.Service.binary == binary, models.Service.deleted == 0
    )
    with _transaction() as session:
        service = session.scalar(query)
        if service is None:
            service = models.Service(host=host, binary=binary, report_count=0, **values)
            session.add(service)
        return service


def service_heartbeat(context: nova_context.RequestContext, service_id: int) -> None:
    """Record that a service is alive now."""
    statement = (
        sa.update(models.Service)
        .where(models.Service.id == service_id)
        .values(report_count=models.Service.report_count + 1, updated_at=models.utcnow())
        .execution_options(synchronize_session=False)
    )
    with _transaction() as session:
        session.execute(statement)


def service_is_up(service: models.Service, down_time: int) -> bool:
    """Tell whether a service's last heartbeat is younger than ``down_time`` seconds."""
    last = service.updated_at or service.created_at
    if last is None:
        return False
    return models.utcnow() - last < datetime.timedelta(seconds=down_time)


ServiceRecord = _record_type(models.Service)
ComputeNodeRecord = _record_type(models.ComputeNode)

_services = models.Service.__table__
_nodes = models.ComputeNode.__table__

_COMPUTE_HOSTS = prepared.Prepared(
    sa.select(_services, _nodes)
    .outerjoin(_nodes, sa.and_(_nodes.c.host == _services.c.host, _nodes.c.deleted == 0))
    .where(_services.c.binary == "nova-compute", _services.c.deleted == 0)
    .order_by(_services.c.host)
)


def compute_hosts(
    context: nova_context.RequestContext,
) -> list[tuple[ServiceRecord, ComputeNodeRecord | None]]:
    """Return every live nova-compute service with its compute node (or None)."""
    split = len(_services.columns)
    return [
        (
            ServiceRecord._make(row[:split]),
            None if row[split] is None else ComputeNodeRecord._make(row[split:]),
        )
        for row in _COMPUTE_HOSTS.run(get_engine(), {})
    ]


def compute_node_update(
    context: nova_context.RequestContext, host: str, service_id: int, capacity: dict[str, Any]
) -> models.ComputeNode:
    """Record a host's capacity (vcpus, memory_mb, local_gb, hypervisor_type)."""
    query = sa.select(models.ComputeNode).where(
        models.ComputeNode.host == host, models.ComputeNode.deleted == 0
    )
    with _transaction() as session:
        node = session.scalar(query)
        if node is None:
            node = models.ComputeNode(host=host, service_id=service_id, **capacity)
            session.add(node)
        else:
            for key, value in capacity.items():
                setattr(node, key, value)
            node.service_id = service_id
        return node


def _room(column: str, ratio: str) -> sa.ColumnElement[bool]:
    used, total = _nodes.c[f"{column}_used"], _nodes.c[column]
    return used + sa.bindparam(f"add_{column}", type_=sa.Integer) <= total * sa.bindparam(
        ratio, type_=sa.Float
    )


def _released(column: str, amount: sa.BindParameter) -> sa.ColumnElement:
    left = _nodes.c[column] - amount
    return sa.case((left < 0, 0), else_=left)


# Built once: a claim is made for every instance scheduled.
_CLAIM = prepared.Prepared(
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
_RELEASE = prepared.Prepared(
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
) -> InstanceRecord | None:
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
        with prepared.writing(get_engine()) as transaction:
            if _CLAIM.count(transaction, params) != 1:
                return None
            updated = instance_update_in(transaction, context, instance_uuid, values, expected)
            if updated is None:
                raise _NotUpdated  # rolls the claim back
    except _NotUpdated:
        raise instance_update_refused(context, instance_uuid, expected) from None
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
    with prepared.writing(get_engine()) as transaction:
        _RELEASE.count(transaction, params)
