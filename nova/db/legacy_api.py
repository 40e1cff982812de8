"""The database API of nova-network: legacy networks and fixed IPs.

Part of the database API (``nova.db.api`` holds the engine, sessions,
instances and VIFs); kept apart because the legacy backend alone uses it.
Not scoped to the context's project: which networks a project may use is
the legacy network backend's decision (shared flat networks have no project
at all).
"""

from __future__ import annotations

import ipaddress
import logging
import secrets
import time
import uuid as uuidlib
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy import orm

from nova import context as nova_context
from nova import exception
from nova.db import models
from nova.db.api import _one_or_raise
from nova.db.api import _soft_delete_values
from nova.db.api import _transaction

LOG = logging.getLogger(__name__)


# --- legacy networks -----------------------------------------------------------


def network_create(
    context: nova_context.RequestContext, values: Mapping[str, Any]
) -> models.Network:
    """Create a legacy Nova network; a ``uuid`` is generated when not given."""
    values = dict(values)
    values.setdefault("uuid", str(uuidlib.uuid4()))
    with _transaction() as session:
        network = models.Network(**values)
        session.add(network)
    return network


def network_get_by_uuid(context: nova_context.RequestContext, network_uuid: str) -> models.Network:
    """Return the live network ``network_uuid``.

    :raises nova.exception.NetworkNotFound: no such network.
    """
    query = sa.select(models.Network).where(
        models.Network.uuid == network_uuid, models.Network.deleted == 0
    )
    return _one_or_raise(query, exception.NetworkNotFound(network_id=network_uuid))


# --- lookup, projects, deletion -------------------------------------------------

#: How many times an allocation that lost a race (or hit a deadlock) is retried.
ALLOCATE_ATTEMPTS = 50


def _live_network_query() -> sa.Select:
    return sa.select(models.Network).where(models.Network.deleted == 0)


def network_get(context: nova_context.RequestContext, network_id: int) -> models.Network:
    """Return the live network whose internal id is ``network_id``.

    :raises nova.exception.NetworkNotFound: no such network.
    """
    return _one_or_raise(
        _live_network_query().where(models.Network.id == network_id),
        exception.NetworkNotFound(network_id=network_id),
    )


def network_get_all(context: nova_context.RequestContext) -> list[models.Network]:
    """Return every live network, oldest first."""
    with _transaction() as session:
        return list(session.scalars(_live_network_query().order_by(models.Network.id)))


def network_get_all_by_project(
    context: nova_context.RequestContext, project_id: str | None
) -> list[models.Network]:
    """Return the live networks of ``project_id``, oldest first.

    :param project_id: a project, or ``None`` for the networks that belong
        to no project (flat networks shared by every project).
    """
    if project_id is None:
        condition = models.Network.project_id.is_(None)
    else:
        condition = models.Network.project_id == project_id
    with _transaction() as session:
        query = _live_network_query().where(condition).order_by(models.Network.id)
        return list(session.scalars(query))


def network_associate(
    context: nova_context.RequestContext, project_id: str, network_uuid: str | None = None
) -> models.Network:
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
    for _attempt in range(ALLOCATE_ATTEMPTS):
        with _transaction() as session:
            if network_uuid is None:
                candidate = session.scalar(
                    sa.select(models.Network.id)
                    .where(
                        models.Network.deleted == 0,
                        models.Network.project_id.is_(None),
                        models.Network.vlan.is_not(None),
                    )
                    .order_by(models.Network.vlan, models.Network.id)
                    .limit(1)
                )
                if candidate is None:
                    raise exception.Conflict(
                        reason=f"no free VLAN network is left for project {project_id}"
                    )
                where = [models.Network.id == candidate]
            else:
                where = [models.Network.uuid == network_uuid]
            claimed = session.execute(
                sa.update(models.Network)
                .where(*where, models.Network.deleted == 0, models.Network.project_id.is_(None))
                .values(project_id=project_id, updated_at=models.utcnow())
                .execution_options(synchronize_session=False)
            ).rowcount
            if claimed == 1:
                return session.scalar(_live_network_query().where(*where))
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


def _vlan_in_use(session: orm.Session, vlan: int) -> models.Network | None:
    return session.scalar(_live_network_query().where(models.Network.vlan == vlan))


def network_create_with_fixed_ips(
    context: nova_context.RequestContext, values: Mapping[str, Any]
) -> models.Network:
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
        with _transaction() as session:
            if vlan is not None and (taken := _vlan_in_use(session, vlan)) is not None:
                raise _vlan_conflict(vlan, taken)
            network = models.Network(**values)
            session.add(network)
            session.flush()
            _insert_fixed_ips(session, network)
    except sa_exc.IntegrityError:
        # A concurrent create took the VLAN or the addresses between our
        # checks and the insert.
        with _transaction() as session:
            taken = _vlan_in_use(session, vlan) if vlan is not None else None
            address_taken = session.scalar(
                sa.select(models.FixedIp.address).where(
                    models.FixedIp.address.in_([values["gateway"], values["broadcast"]]),
                    models.FixedIp.deleted == 0,
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


def _vlan_conflict(vlan: int, network: models.Network) -> exception.Conflict:
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
    with _transaction() as session:
        network = session.scalar(_live_network_query().where(models.Network.uuid == network_uuid))
        if network is None:
            raise exception.NetworkNotFound(network_id=network_uuid)
        of_network = (models.FixedIp.network_id == network.id, models.FixedIp.deleted == 0)
        session.execute(
            sa.update(models.FixedIp)
            .where(*of_network, models.FixedIp.allocated == sa.false())
            .values(_soft_delete_values(models.FixedIp))
            .execution_options(synchronize_session=False)
        )
        in_use = session.scalar(sa.select(sa.func.count(models.FixedIp.id)).where(*of_network))
        if in_use:
            # Raising rolls the soft deletes above back.
            raise exception.Conflict(
                reason=f"network {network_uuid} has {in_use} allocated fixed IP(s); "
                "delete the instances using it first"
            )
        session.execute(
            sa.update(models.Network)
            .where(models.Network.id == network.id, models.Network.deleted == 0)
            .values(_soft_delete_values(models.Network))
            .execution_options(synchronize_session=False)
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


def _insert_fixed_ips(session: orm.Session, network: models.Network) -> int:
    cidr = ipaddress.ip_network(network.cidr)
    reserved = {str(cidr.network_address), str(cidr.broadcast_address), network.gateway}
    rows = [
        {
            "network_id": network.id,
            "address": str(address),
            "reserved": str(address) in reserved,
            "allocated": False,
            "leased": False,
            "deleted": 0,
            "created_at": models.utcnow(),
        }
        for address in cidr
    ]
    if rows:
        session.execute(sa.insert(models.FixedIp), rows)
    return len(rows)


def fixed_ip_bulk_create(context: nova_context.RequestContext, network_id: int) -> int:
    """Create one fixed IP row per address of network ``network_id``'s CIDR.

    The network address, the gateway and the broadcast address are marked
    ``reserved`` and are never allocated. Return how many rows were created.

    :raises nova.exception.NetworkNotFound: no such network.
    :raises sqlalchemy.exc.IntegrityError: an address already has a live row.
    """
    with _transaction() as session:
        network = session.scalar(_live_network_query().where(models.Network.id == network_id))
        if network is None:
            raise exception.NetworkNotFound(network_id=network_id)
        return _insert_fixed_ips(session, network)


def fixed_ip_get_by_address(context: nova_context.RequestContext, address: str) -> models.FixedIp:
    """Return the live fixed IP row of ``address``.

    :raises nova.exception.NotFound: no network has this address.
    """
    query = sa.select(models.FixedIp).where(
        models.FixedIp.address == address, models.FixedIp.deleted == 0
    )
    return _one_or_raise(query, exception.NotFound(f"Fixed IP {address} could not be found."))


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
        return version >= ((10, 6) if dialect.is_mariadb else (8, 0, 1))
    return False


_FIXED_IPS = models.FixedIp.__table__
# The candidate subquery reads fixed_ips under another name, so that it is
# not correlated with the UPDATE of the same table.
_FREE_FIXED_IPS = _FIXED_IPS.alias("free_fixed_ips")


def _claim_free_fixed_ip(
    session: orm.Session, network_id: int, values: Mapping[str, Any]
) -> int | None:
    """Mark one free address of the network allocated; return its id, or None.

    None means nothing was claimed in this transaction: no address was free,
    or (MySQL without SKIP LOCKED) another transaction won the candidate.
    Core statements on the table: this is the hot path of every boot.
    """
    dialect = session.get_bind().dialect
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
        sa.update(_FIXED_IPS)
        .where(*_free_fixed_ip_conditions(_FIXED_IPS.c, network_id))
        .values(values)
    )
    if dialect.name != "mysql":
        # One statement. SQLite takes the database write lock before it runs
        # the subquery, so nothing interleaves; on PostgreSQL the subquery
        # locks its row (SKIP LOCKED) and the outer ``allocated = false``
        # re-check guards the rest.
        claim = claim.where(_FIXED_IPS.c.id == candidate.scalar_subquery())
        return session.scalar(claim.returning(_FIXED_IPS.c.id))
    # MySQL/MariaDB cannot UPDATE a table with a subquery on itself (error
    # 1093) nor return ids from an UPDATE: select the candidate, then claim
    # it with the same conditions; zero rows means another transaction won.
    candidate_id = session.scalar(candidate)
    if candidate_id is None:
        return None
    claimed = session.execute(claim.where(_FIXED_IPS.c.id == candidate_id)).rowcount
    return candidate_id if claimed == 1 else None


def _is_retryable(exc: sa_exc.DBAPIError) -> bool:
    """Tell whether ``exc`` is a deadlock, serialization failure or lock timeout."""
    orig = exc.orig
    if getattr(orig, "sqlstate", None) in ("40001", "40P01"):  # PostgreSQL (psycopg)
        return True
    args = getattr(orig, "args", ())
    if args and args[0] in (1205, 1213):  # MySQL lock wait timeout, deadlock
        return True
    return "database is locked" in str(orig)  # SQLite, busy timeout exhausted


def _backoff(attempt: int) -> None:
    time.sleep(min(0.001 * 2**attempt, 0.1) * (0.5 + secrets.randbelow(1000) / 1000))


def fixed_ip_associate_pool(
    context: nova_context.RequestContext,
    network_id: int,
    instance_id: int,
    virtual_interface_id: int | None = None,
) -> models.FixedIp:
    """Allocate one free address of network ``network_id`` to an instance's VIF.

    The lowest free, unreserved address is claimed atomically: no address is
    ever given twice, however many allocators run at once (see
    ``_claim_free_fixed_ip`` for how on each backend). A transaction that
    lost the race, or hit a deadlock, is retried.

    :raises nova.exception.NoMoreFixedIps: every address is allocated or
        reserved.
    :raises nova.exception.Conflict: still losing races after
        ``ALLOCATE_ATTEMPTS`` tries.
    """
    values = _allocation_values(instance_id, virtual_interface_id)
    for attempt in range(ALLOCATE_ATTEMPTS):
        try:
            with _transaction() as session:
                claimed = _claim_free_fixed_ip(session, network_id, values)
                if claimed is not None:
                    return session.get(models.FixedIp, claimed)
                # An address that looks free but was not claimed is being
                # allocated (or released) by a transaction still open.
                still_free = session.scalar(
                    sa.select(models.FixedIp.id)
                    .where(*_free_fixed_ip_conditions(models.FixedIp, network_id))
                    .limit(1)
                )
            if still_free is None:
                raise exception.NoMoreFixedIps(network_id=network_id)
        except sa_exc.DBAPIError as exc:
            if not _is_retryable(exc):
                raise
            LOG.debug("Retrying fixed IP allocation on network %s: %s", network_id, exc.orig)
        _backoff(attempt)
    raise exception.Conflict(
        reason=f"could not allocate a fixed IP on network {network_id} "
        f"after {ALLOCATE_ATTEMPTS} attempts"
    )


def fixed_ip_associate(
    context: nova_context.RequestContext,
    address: str,
    network_id: int,
    instance_id: int,
    virtual_interface_id: int | None = None,
) -> models.FixedIp:
    """Allocate the requested ``address`` of network ``network_id``.

    One conditional ``UPDATE`` (the address must be free and unreserved), so
    two requests for the same address cannot both succeed.

    :raises nova.exception.Invalid: ``address`` is not an address of the
        network.
    :raises nova.exception.FixedIpAlreadyInUse: the address is allocated or
        reserved.
    """
    of_address = (models.FixedIp.address == address, models.FixedIp.network_id == network_id)
    with _transaction() as session:
        claimed = session.execute(
            sa.update(models.FixedIp)
            .where(*of_address, *_free_fixed_ip_conditions(models.FixedIp, network_id))
            .values(_allocation_values(instance_id, virtual_interface_id))
            .execution_options(synchronize_session=False)
        ).rowcount
        row = session.scalar(
            sa.select(models.FixedIp).where(*of_address, models.FixedIp.deleted == 0)
        )
        network_uuid = session.scalar(
            sa.select(models.Network.uuid).where(models.Network.id == network_id)
        )
    if row is None:
        raise exception.Invalid(
            reason=f"{address} is not an address of network {network_uuid or network_id}"
        )
    if claimed != 1:
        raise exception.FixedIpAlreadyInUse(address=address, network_id=network_uuid)
    return row


def _instance_fixed_ips(context: nova_context.RequestContext, instance_id: int) -> sa.Select:
    query = sa.select(models.FixedIp.id).where(
        models.FixedIp.instance_id == instance_id, models.FixedIp.deleted == 0
    )
    if not context.is_admin:
        query = query.where(
            models.FixedIp.instance_id.in_(
                sa.select(models.Instance.id).where(
                    models.Instance.id == instance_id,
                    models.Instance.project_id == context.project_id,
                )
            )
        )
    return query


def fixed_ip_get_by_instance(
    context: nova_context.RequestContext, instance_id: int
) -> list[models.FixedIp]:
    """Return the fixed IPs allocated to instance ``instance_id``, oldest allocation first.

    A non-admin context sees only its project's instances' addresses.
    """
    ids = _instance_fixed_ips(context, instance_id).where(models.FixedIp.allocated == sa.true())
    query = (
        sa.select(models.FixedIp)
        .where(models.FixedIp.id.in_(ids))
        .order_by(models.FixedIp.virtual_interface_id, models.FixedIp.id)
    )
    with _transaction() as session:
        return list(session.scalars(query))


def _release_fixed_ips(condition: Any) -> int:
    statement = (
        sa.update(models.FixedIp)
        .where(condition, models.FixedIp.deleted == 0)
        .values(
            allocated=False,
            leased=False,
            instance_id=None,
            virtual_interface_id=None,
            updated_at=models.utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    with _transaction() as session:
        return session.execute(statement).rowcount


def fixed_ip_disassociate_all_by_instance(
    context: nova_context.RequestContext, instance_id: int
) -> int:
    """Release every fixed IP of instance ``instance_id``; return how many.

    The addresses become free again (unallocated, no instance, no VIF).
    Releasing an instance that holds none is a no-op that returns 0.
    """
    # The id list is materialised first: MySQL cannot UPDATE a table with
    # a subquery on that same table.
    with _transaction() as session:
        ids = list(session.scalars(_instance_fixed_ips(context, instance_id)))
    if not ids:
        return 0
    return _release_fixed_ips(
        sa.and_(models.FixedIp.id.in_(ids), models.FixedIp.instance_id == instance_id)
    )


def fixed_ip_disassociate_by_virtual_interface(
    context: nova_context.RequestContext, virtual_interface_id: int
) -> int:
    """Release the fixed IPs linked to VIF ``virtual_interface_id``; return how many."""
    return _release_fixed_ips(models.FixedIp.virtual_interface_id == virtual_interface_id)
