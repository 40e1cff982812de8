"""The data API of nova-network: legacy networks and fixed IPs.

Kept apart from the other entities because the legacy backend alone uses
it. Not scoped to the context's project: which networks a project may use is
the legacy network backend's decision (shared flat networks have no project
at all).
"""

from __future__ import annotations

import ipaddress
import uuid as uuidlib
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from oslo_db import api as oslo_db_api
from oslo_db import exception as db_exc

from nova import context as nova_context
from nova import exception
from nova.db import models
from nova.db import records
from nova.db import session

#: How many times an allocation that lost a race (or hit a deadlock) is retried.
ALLOCATE_ATTEMPTS = 50

_networks = models.Base.metadata.tables["networks"]
_fixed_ips = models.Base.metadata.tables["fixed_ips"]
_instances = models.Base.metadata.tables["instances"]

_LIVE_NETWORKS = sa.select(_networks).where(_networks.c.deleted == 0)


# --- legacy networks -----------------------------------------------------------


def network_create(
    context: nova_context.RequestContext, values: Mapping[str, Any]
) -> records.Network:
    """Create a legacy Nova network; a ``uuid`` is generated when not given."""
    values = dict(values)
    values.setdefault("uuid", str(uuidlib.uuid4()))
    with session.writer(context) as conn:
        return records.Network(**session.insert_row(conn, _networks, values))


def _live_network(
    context: nova_context.RequestContext, criterion: sa.ColumnElement[bool], network_id: Any
) -> records.Network:
    """Return the one live network that fits ``criterion``.

    :raises nova.exception.NetworkNotFound: none (named by ``network_id``).
    """
    with session.reader(context, single_statement=True) as conn:
        row = session.one_or_raise(
            conn,
            _LIVE_NETWORKS.where(criterion),
            exception.NetworkNotFound(network_id=network_id),
        )
    return records.Network._make(row)


def network_get_by_uuid(context: nova_context.RequestContext, network_uuid: str) -> records.Network:
    """Return the live network ``network_uuid``.

    :raises nova.exception.NetworkNotFound: no such network.
    """
    return _live_network(context, _networks.c.uuid == network_uuid, network_uuid)


def network_get(context: nova_context.RequestContext, network_id: int) -> records.Network:
    """Return the live network whose internal id is ``network_id``.

    :raises nova.exception.NetworkNotFound: no such network.
    """
    return _live_network(context, _networks.c.id == network_id, network_id)


def network_get_all(context: nova_context.RequestContext) -> list[records.Network]:
    """Return every live network, oldest first."""
    with session.reader(context, single_statement=True) as conn:
        rows = conn.execute(_LIVE_NETWORKS.order_by(_networks.c.id)).all()
    return [records.Network._make(row) for row in rows]


def network_get_all_by_project(
    context: nova_context.RequestContext, project_id: str | None
) -> list[records.Network]:
    """Return the live networks of ``project_id``, oldest first.

    :param project_id: a project, or ``None`` for the networks that belong
        to no project (flat networks shared by every project).
    """
    condition: sa.ColumnElement[bool]
    if project_id is None:
        condition = _networks.c.project_id.is_(None)
    else:
        condition = _networks.c.project_id == project_id
    statement = _LIVE_NETWORKS.where(condition).order_by(_networks.c.id)
    with session.reader(context, single_statement=True) as conn:
        rows = conn.execute(statement).all()
    return [records.Network._make(row) for row in rows]


def network_associate(
    context: nova_context.RequestContext, project_id: str, network_uuid: str | None = None
) -> records.Network:
    """Give a network that belongs to no project to ``project_id`` (VLAN mode).

    Without ``network_uuid`` the free VLAN network (``vlan`` set, no
    project) with the lowest VLAN id is taken. The claim is a conditional
    ``UPDATE ... WHERE project_id IS NULL``, so two projects never get the
    same network.

    :param network_uuid: associate this network; associating a network the
        project already has is a no-op.
    :raises nova.exception.NetworkNotFound: no such network.
    :raises nova.exception.Conflict: the network belongs to another
        project, or no free VLAN network is left.
    """
    columns = _networks.c
    for _attempt in range(ALLOCATE_ATTEMPTS):
        with session.writer(context) as conn:
            if network_uuid is None:
                candidate = conn.scalar(
                    sa.select(columns.id)
                    .where(
                        columns.deleted == 0,
                        columns.project_id.is_(None),
                        columns.vlan.is_not(None),
                    )
                    .order_by(columns.vlan, columns.id)
                    .limit(1)
                )
                if candidate is None:
                    raise exception.Conflict(
                        reason=f"no free VLAN network is left for project {project_id}"
                    )
                where = columns.id == candidate
            else:
                where = columns.uuid == network_uuid
            claimed = conn.execute(
                sa.update(_networks)
                .where(where, columns.deleted == 0, columns.project_id.is_(None))
                .values(project_id=project_id, updated_at=models.utcnow())
            ).rowcount
            if claimed == 1:
                return records.Network._make(conn.execute(_LIVE_NETWORKS.where(where)).one())
        if network_uuid is not None:
            network = network_get_by_uuid(context, network_uuid)
            if network.project_id == project_id:
                return network
            if network.project_id is not None:
                raise exception.Conflict(
                    reason=f"network {network_uuid} belongs to project {network.project_id}"
                )
        # Another project took the candidate (or it was deleted): try the next.
    raise exception.Conflict(
        reason=f"could not associate a network with project {project_id}: too much contention"
    )


def _vlan_in_use(conn: sa.Connection, vlan: int) -> records.Network | None:
    row = conn.execute(_LIVE_NETWORKS.where(_networks.c.vlan == vlan)).first()
    return None if row is None else records.Network._make(row)


def network_create_with_fixed_ips(
    context: nova_context.RequestContext, values: Mapping[str, Any]
) -> records.Network:
    """Create a legacy network and its fixed IP rows in one transaction.

    ``values`` holds the network's columns; ``cidr`` is required and
    ``gateway``/``broadcast`` default to the first host address and the
    broadcast address of ``cidr``. See ``fixed_ip_bulk_create`` for the
    rows. Either both are written or nothing is.

    :raises nova.exception.Conflict: ``vlan`` is used by a live network, or
        addresses of ``cidr`` belong to another live network.
    """
    values = _with_layer3_defaults(values)
    values.setdefault("uuid", str(uuidlib.uuid4()))
    vlan = values.get("vlan")
    try:
        with session.writer(context) as conn:
            if vlan is not None and (taken := _vlan_in_use(conn, vlan)) is not None:
                raise _vlan_conflict(vlan, taken)
            network = records.Network(**session.insert_row(conn, _networks, values))
            _insert_fixed_ips(conn, network)
    except db_exc.DBDuplicateEntry:
        # A concurrent create took the VLAN or the addresses between our
        # checks and the insert.
        with session.reader(context) as conn:
            taken = _vlan_in_use(conn, vlan) if vlan is not None else None
            address_taken = conn.scalar(
                sa.select(_fixed_ips.c.address).where(
                    _fixed_ips.c.address.in_([values["gateway"], values["broadcast"]]),
                    _fixed_ips.c.deleted == 0,
                )
            )
        if taken is not None:
            raise _vlan_conflict(vlan, taken) from None
        if address_taken is not None:
            raise exception.Conflict(
                reason=f"address {address_taken} of {values['cidr']} belongs to another network"
            ) from None
        raise
    return network


def _vlan_conflict(vlan: int | None, network: records.Network) -> exception.Conflict:
    return exception.Conflict(
        reason=f"VLAN {vlan} is already used by network {network.uuid} ({network.label})"
    )


def network_delete(context: nova_context.RequestContext, network_uuid: str) -> None:
    """Soft-delete the live network ``network_uuid`` and its fixed IPs.

    Refused while any of its fixed IPs is allocated. Freeing the rows and
    the check happen in one transaction: an allocation racing with the
    delete either commits first (and the delete is refused) or finds the
    rows deleted.

    :raises nova.exception.NetworkNotFound: no such network.
    :raises nova.exception.Conflict: fixed IPs of the network are allocated.
    """
    with session.writer(context) as conn:
        (network_id,) = session.one_or_raise(
            conn,
            sa.select(_networks.c.id).where(
                _networks.c.uuid == network_uuid, _networks.c.deleted == 0
            ),
            exception.NetworkNotFound(network_id=network_uuid),
        )
        of_network = (_fixed_ips.c.network_id == network_id, _fixed_ips.c.deleted == 0)
        conn.execute(
            sa.update(_fixed_ips)
            .where(*of_network, _fixed_ips.c.allocated == sa.false())
            .values(session.soft_delete_values(_fixed_ips))
        )
        in_use = conn.scalar(sa.select(sa.func.count(_fixed_ips.c.id)).where(*of_network))
        if in_use:
            # Raising rolls the soft deletes above back.
            raise exception.Conflict(
                reason=f"network {network_uuid} has {in_use} allocated fixed IP(s); "
                "delete the instances using it first"
            )
        conn.execute(
            sa.update(_networks)
            .where(_networks.c.id == network_id, _networks.c.deleted == 0)
            .values(session.soft_delete_values(_networks))
        )


# --- legacy fixed IPs ----------------------------------------------------------


def _with_layer3_defaults(values: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``values`` with netmask, gateway and broadcast derived from ``cidr``."""
    values = dict(values)
    cidr = ipaddress.ip_network(values["cidr"])
    values["cidr"] = str(cidr)
    values.setdefault("netmask", str(cidr.netmask))
    values.setdefault("broadcast", str(cidr.broadcast_address))
    if values.get("gateway") is None:
        values["gateway"] = str(cidr.network_address + 1)
    return values


def _insert_fixed_ips(conn: sa.Connection, network: records.Network) -> int:
    cidr = ipaddress.ip_network(network.cidr or "")
    reserved = {str(cidr.network_address), str(cidr.broadcast_address), network.gateway}
    now = models.utcnow()
    rows = [
        {
            "network_id": network.id,
            "address": str(address),
            "reserved": str(address) in reserved,
            "allocated": False,
            "leased": False,
            "deleted": 0,
            "created_at": now,
        }
        for address in cidr
    ]
    if rows:
        conn.execute(sa.insert(_fixed_ips), rows)
    return len(rows)


def fixed_ip_bulk_create(context: nova_context.RequestContext, network_id: int) -> int:
    """Create one fixed IP row per address of network ``network_id``'s CIDR.

    The network address, the gateway and the broadcast address are marked
    ``reserved`` and are never allocated. Return how many rows were created.

    :raises nova.exception.NetworkNotFound: no such network.
    :raises oslo_db.exception.DBDuplicateEntry: an address already has a live row.
    """
    with session.writer(context) as conn:
        row = session.one_or_raise(
            conn,
            _LIVE_NETWORKS.where(_networks.c.id == network_id),
            exception.NetworkNotFound(network_id=network_id),
        )
        return _insert_fixed_ips(conn, records.Network._make(row))


def fixed_ip_get_by_address(context: nova_context.RequestContext, address: str) -> records.FixedIp:
    """Return the live fixed IP row of ``address``.

    :raises nova.exception.NotFound: no network has this address.
    """
    statement = sa.select(_fixed_ips).where(
        _fixed_ips.c.address == address, _fixed_ips.c.deleted == 0
    )
    with session.reader(context, single_statement=True) as conn:
        row = session.one_or_raise(
            conn, statement, exception.NotFound(f"Fixed IP {address} could not be found.")
        )
    return records.FixedIp._make(row)


def _free_fixed_ip_conditions(table: Any, network_id: int) -> tuple[Any, ...]:
    return (
        table.network_id == network_id,
        table.deleted == 0,
        table.allocated == sa.false(),
        table.reserved == sa.false(),
    )


def _allocation_values(instance_id: int, virtual_interface_id: int | None) -> dict[str, Any]:
    return {
        "allocated": True,
        "instance_id": instance_id,
        "virtual_interface_id": virtual_interface_id,
        "updated_at": models.utcnow(),
    }


def _supports_skip_locked(dialect: sa.Dialect) -> bool:
    version = dialect.server_version_info or ()
    if dialect.name == "postgresql":
        return version >= (9, 5)
    if dialect.name == "mysql":
        return version >= ((10, 6) if getattr(dialect, "is_mariadb", False) else (8, 0, 1))
    return False


# The candidate subquery reads fixed_ips under another name, so that it is
# not correlated with the UPDATE of the same table.
_FREE_FIXED_IPS = _fixed_ips.alias("free_fixed_ips")


def _claim_free_fixed_ip(
    conn: sa.Connection, network_id: int, values: Mapping[str, Any]
) -> int | None:
    """Mark one free address of the network allocated; return its id, or None.

    None means nothing was claimed in this transaction: no address was free,
    or (MySQL without SKIP LOCKED) another transaction won the candidate.
    """
    dialect = conn.dialect
    free = _FREE_FIXED_IPS.c
    candidate = (
        sa.select(free.id)
        .where(*_free_fixed_ip_conditions(free, network_id))
        .order_by(free.id)
        .limit(1)
    )
    if _supports_skip_locked(dialect):
        # Concurrent allocators lock (and so skip) different candidates.
        candidate = candidate.with_for_update(skip_locked=True)
    claim = (
        sa.update(_fixed_ips)
        .where(*_free_fixed_ip_conditions(_fixed_ips.c, network_id))
        .values(values)
    )
    if dialect.name != "mysql":
        # One statement. SQLite takes the database write lock before it runs
        # the subquery, so nothing interleaves; on PostgreSQL the subquery
        # locks its row (SKIP LOCKED) and the outer ``allocated = false``
        # re-check guards the rest.
        claim = claim.where(_fixed_ips.c.id == candidate.scalar_subquery())
        return conn.scalar(claim.returning(_fixed_ips.c.id))
    # MySQL/MariaDB cannot UPDATE a table with a subquery on itself (error
    # 1093) nor return ids from an UPDATE: select the candidate, then claim
    # it with the same conditions; zero rows means another transaction won.
    candidate_id = conn.scalar(candidate)
    if candidate_id is None:
        return None
    claimed = conn.execute(claim.where(_fixed_ips.c.id == candidate_id)).rowcount
    return candidate_id if claimed == 1 else None


@oslo_db_api.wrap_db_retry(
    max_retries=ALLOCATE_ATTEMPTS - 1,  # after the first attempt
    retry_on_deadlock=True,
    retry_interval=0.001,
    max_retry_interval=0.1,
    jitter=True,
)
def _associate_pool(
    context: nova_context.RequestContext, network_id: int, values: Mapping[str, Any]
) -> records.FixedIp:
    with session.writer(context) as conn:
        claimed = _claim_free_fixed_ip(conn, network_id, values)
        if claimed is not None:
            row = conn.execute(sa.select(_fixed_ips).where(_fixed_ips.c.id == claimed)).one()
            return records.FixedIp._make(row)
        # An address that looks free but was not claimed is being allocated
        # (or released) by a transaction still open.
        still_free = conn.scalar(
            sa.select(_fixed_ips.c.id)
            .where(*_free_fixed_ip_conditions(_fixed_ips.c, network_id))
            .limit(1)
        )
    if still_free is None:
        raise exception.NoMoreFixedIps(network_id=network_id)
    raise db_exc.RetryRequest(
        exception.Conflict(
            reason=f"could not allocate a fixed IP on network {network_id} "
            f"after {ALLOCATE_ATTEMPTS} attempts"
        )
    )


def fixed_ip_associate_pool(
    context: nova_context.RequestContext,
    network_id: int,
    instance_id: int,
    virtual_interface_id: int | None = None,
) -> records.FixedIp:
    """Allocate one free address of network ``network_id`` to an instance's VIF.

    The lowest free, unreserved address is claimed atomically: no address is
    ever given twice, however many allocators run at once (see
    ``_claim_free_fixed_ip`` for how on each backend). A transaction that
    lost the race, or hit a deadlock or lock timeout, is retried
    (``oslo_db.api.wrap_db_retry``).

    :raises nova.exception.NoMoreFixedIps: every address is allocated or
        reserved.
    :raises nova.exception.Conflict: still losing races after
        ``ALLOCATE_ATTEMPTS`` tries.
    :raises oslo_db.exception.DBDeadlock: still deadlocking after as many.
    """
    values = _allocation_values(instance_id, virtual_interface_id)
    return _associate_pool(context, network_id, values)


def fixed_ip_associate(
    context: nova_context.RequestContext,
    address: str,
    network_id: int,
    instance_id: int,
    virtual_interface_id: int | None = None,
) -> records.FixedIp:
    """Allocate the requested ``address`` of network ``network_id``.

    One conditional ``UPDATE`` (the address must be free and unreserved), so
    two requests for the same address cannot both succeed.

    :raises nova.exception.Invalid: ``address`` is not an address of the
        network.
    :raises nova.exception.FixedIpAlreadyInUse: the address is allocated or
        reserved.
    """
    of_address = (_fixed_ips.c.address == address, _fixed_ips.c.network_id == network_id)
    with session.writer(context) as conn:
        claimed = conn.execute(
            sa.update(_fixed_ips)
            .where(*of_address, *_free_fixed_ip_conditions(_fixed_ips.c, network_id))
            .values(_allocation_values(instance_id, virtual_interface_id))
        ).rowcount
        row = conn.execute(
            sa.select(_fixed_ips).where(*of_address, _fixed_ips.c.deleted == 0)
        ).first()
        network_uuid = conn.scalar(sa.select(_networks.c.uuid).where(_networks.c.id == network_id))
    if row is None:
        raise exception.Invalid(
            reason=f"{address} is not an address of network {network_uuid or network_id}"
        )
    if claimed != 1:
        raise exception.FixedIpAlreadyInUse(address=address, network_id=network_uuid)
    return records.FixedIp._make(row)


def _instance_fixed_ips(context: nova_context.RequestContext, instance_id: int) -> sa.Select:
    statement = sa.select(_fixed_ips.c.id).where(
        _fixed_ips.c.instance_id == instance_id, _fixed_ips.c.deleted == 0
    )
    if not context.is_admin:
        statement = statement.where(
            _fixed_ips.c.instance_id.in_(
                sa.select(_instances.c.id).where(
                    _instances.c.id == instance_id,
                    _instances.c.project_id == context.project_id,
                )
            )
        )
    return statement


def fixed_ip_get_by_instance(
    context: nova_context.RequestContext, instance_id: int
) -> list[records.FixedIp]:
    """Return the fixed IPs allocated to instance ``instance_id``, oldest allocation first.

    A non-admin context sees only its project's instances' addresses.
    """
    ids = _instance_fixed_ips(context, instance_id).where(_fixed_ips.c.allocated == sa.true())
    statement = (
        sa.select(_fixed_ips)
        .where(_fixed_ips.c.id.in_(ids))
        .order_by(_fixed_ips.c.virtual_interface_id, _fixed_ips.c.id)
    )
    with session.reader(context, single_statement=True) as conn:
        rows = conn.execute(statement).all()
    return [records.FixedIp._make(row) for row in rows]


def _release_fixed_ips(context: nova_context.RequestContext, condition: Any) -> int:
    statement = (
        sa.update(_fixed_ips)
        .where(condition, _fixed_ips.c.deleted == 0)
        .values(
            allocated=False,
            leased=False,
            instance_id=None,
            virtual_interface_id=None,
            updated_at=models.utcnow(),
        )
    )
    with session.writer(context) as conn:
        return conn.execute(statement).rowcount


def fixed_ip_disassociate_all_by_instance(
    context: nova_context.RequestContext, instance_id: int
) -> int:
    """Release every fixed IP of instance ``instance_id``; return how many.

    The addresses become free again (unallocated, no instance, no VIF).
    Releasing an instance that holds none is a no-op that returns 0.
    """
    # The id list is materialised first: MySQL cannot UPDATE a table with
    # a subquery on that same table.
    with session.reader(context, single_statement=True) as conn:
        ids = list(conn.scalars(_instance_fixed_ips(context, instance_id)))
    if not ids:
        return 0
    return _release_fixed_ips(
        context, sa.and_(_fixed_ips.c.id.in_(ids), _fixed_ips.c.instance_id == instance_id)
    )


def fixed_ip_disassociate_by_virtual_interface(
    context: nova_context.RequestContext, virtual_interface_id: int
) -> int:
    """Release the fixed IPs linked to VIF ``virtual_interface_id``; return how many."""
    return _release_fixed_ips(context, _fixed_ips.c.virtual_interface_id == virtual_interface_id)
