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
from nova.db.api import _reader
from nova.db.api import _transaction


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


def compute_hosts(context: nova_context.RequestContext) -> list[tuple[models.Service, Any]]:
    """Return every live nova-compute service with its compute node (or None)."""
    query = (
        sa.select(models.Service, models.ComputeNode)
        .outerjoin(
            models.ComputeNode,
            sa.and_(
                models.ComputeNode.host == models.Service.host, models.ComputeNode.deleted == 0
            ),
        )
        .where(models.Service.binary == "nova-compute", models.Service.deleted == 0)
        .order_by(models.Service.host)
    )
    with _reader() as session:
        return [(service, node) for service, node in session.execute(query)]


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


def compute_node_claim(
    context: nova_context.RequestContext,
    host: str,
    memory_mb: int,
    vcpus: int,
    local_gb: int,
    ratios: dict[str, float],
) -> bool:
    """Take room for one instance on ``host`` if it still fits; return whether it did."""
    node = models.ComputeNode
    statement = (
        sa.update(node)
        .where(
            node.host == host,
            node.deleted == 0,
            node.memory_mb_used + memory_mb <= node.memory_mb * ratios["ram"],
            node.vcpus_used + vcpus <= node.vcpus * ratios["cpu"],
            node.local_gb_used + local_gb <= node.local_gb * ratios["disk"],
        )
        .values(
            memory_mb_used=node.memory_mb_used + memory_mb,
            vcpus_used=node.vcpus_used + vcpus,
            local_gb_used=node.local_gb_used + local_gb,
            running_vms=node.running_vms + 1,
        )
        .execution_options(synchronize_session=False)
    )
    with _transaction() as session:
        return session.execute(statement).rowcount == 1


def compute_node_release(
    context: nova_context.RequestContext, host: str, memory_mb: int, vcpus: int, local_gb: int
) -> None:
    """Give back what a claim took on ``host`` (never below zero)."""
    node = models.ComputeNode

    def minus(column, amount):
        return sa.case((column - amount < 0, 0), else_=column - amount)

    statement = (
        sa.update(node)
        .where(node.host == host, node.deleted == 0)
        .values(
            memory_mb_used=minus(node.memory_mb_used, memory_mb),
            vcpus_used=minus(node.vcpus_used, vcpus),
            local_gb_used=minus(node.local_gb_used, local_gb),
            running_vms=minus(node.running_vms, 1),
        )
        .execution_options(synchronize_session=False)
    )
    with _transaction() as session:
        session.execute(statement)
