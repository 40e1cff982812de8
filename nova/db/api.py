"""The database API: the only module that reads and writes Nova's tables.

Functions take a ``RequestContext`` first; a non-admin context only sees
rows of its own project. Rows are soft-deleted (``deleted`` set to the row's
id), so unique constraints that include ``deleted`` bind live rows only.
Returned objects are detached from their session and safe to keep.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import threading
import uuid as uuidlib
from collections.abc import Iterator
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy import orm

import nova.conf
from nova import context as nova_context
from nova import exception
from nova.db import engine as db_engine
from nova.db import models

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)

#: MAC prefix of generated VIF addresses (locally administered, as in Nova).
MAC_PREFIX = (0xFA, 0x16, 0x3E)
#: How many random MAC addresses to try before giving up.
MAC_ATTEMPTS = 10

_lock = threading.Lock()
_engine: sa.Engine | None = None
_sessionmaker: orm.sessionmaker | None = None
_read_engine: sa.Engine | None = None
_read_sessionmaker: orm.sessionmaker | None = None


def get_engine() -> sa.Engine:
    """Return the process's engine for ``[database] connection``, creating it once."""
    global _engine, _sessionmaker, _read_engine, _read_sessionmaker
    with _lock:
        if _engine is None:
            _engine = db_engine.create_engine(
                CONF.database.connection,
                echo=CONF.database.connection_debug,
                pool_size=CONF.database.max_pool_size,
                pool_timeout=CONF.database.pool_timeout,
                sqlite_busy_timeout=CONF.database.sqlite_busy_timeout,
                sqlite_synchronous=CONF.database.sqlite_synchronous,
            )
            _sessionmaker = orm.sessionmaker(_engine, expire_on_commit=False)
            _read_engine = db_engine.reader(_engine)
            _read_sessionmaker = orm.sessionmaker(_read_engine, expire_on_commit=False)
        return _engine


def dispose_engine() -> None:
    """Close every pooled connection and forget the engine (tests, reconfiguration)."""
    global _engine, _sessionmaker, _read_engine, _read_sessionmaker
    with _lock:
        if _engine is not None:
            _engine.dispose()
        _engine = None
        _sessionmaker = None
        _read_engine = None
        _read_sessionmaker = None


@contextlib.contextmanager
def _transaction() -> Iterator[orm.Session]:
    """A transaction that may write."""
    engine = get_engine()
    assert _sessionmaker is not None
    with db_engine.writing(engine), _sessionmaker.begin() as session:
        yield session


@contextlib.contextmanager
def _reader() -> Iterator[orm.Session]:
    """A transaction that only reads (never waits for a writer on SQLite)."""
    get_engine()
    assert _read_sessionmaker is not None
    with _read_sessionmaker.begin() as session:
        yield session


@contextlib.contextmanager
def _read_connection() -> Iterator[sa.Connection]:
    """A transaction that only reads, on a Core connection.

    For reads that build no ORM objects (the API's views): without a session
    and an identity map, a request spends its time in the database.
    """
    get_engine()
    assert _read_engine is not None
    with _read_engine.begin() as connection:
        yield connection


def _soft_delete_values(model: type[models.Base]) -> dict[Any, Any]:
    return {model.deleted: model.id, model.deleted_at: models.utcnow()}


def _one_or_raise(query: sa.Select, not_found: exception.NotFound) -> Any:
    """Return the one row ``query`` finds, or raise ``not_found``."""
    with _reader() as session:
        row = session.scalar(query)
    if row is None:
        raise not_found
    return row


def _scope_to_project(
    context: nova_context.RequestContext, query: sa.Select, model: type[models.Base]
) -> sa.Select:
    if context.is_admin:
        return query
    return query.where(model.project_id == context.project_id)


# --- flavors -------------------------------------------------------------------


def flavor_get_all(context: nova_context.RequestContext) -> list[models.Flavor]:
    """Return every live flavor, smallest memory first."""
    with _reader() as session:
        query = (
            sa.select(models.Flavor)
            .where(models.Flavor.deleted == 0)
            .order_by(models.Flavor.memory_mb, models.Flavor.flavorid)
        )
        return list(session.scalars(query))


def flavor_get_by_flavor_id(context: nova_context.RequestContext, flavor_id: str) -> models.Flavor:
    """Return the live flavor whose public id is ``flavor_id``.

    :raises nova.exception.FlavorNotFound: no such flavor.
    """
    query = sa.select(models.Flavor).where(
        models.Flavor.flavorid == flavor_id, models.Flavor.deleted == 0
    )
    return _one_or_raise(query, exception.FlavorNotFound(flavor_id=flavor_id))


# --- instances -----------------------------------------------------------------


def instance_create(
    context: nova_context.RequestContext, values: Mapping[str, Any]
) -> models.Instance:
    """Create an instance from ``values``; ``metadata`` (a dict) becomes its rows.

    A ``uuid`` is generated when not given.
    """
    values = dict(values)
    metadata = values.pop("metadata", None) or {}
    values.setdefault("uuid", str(uuidlib.uuid4()))
    with _transaction() as session:
        instance = models.Instance(**values)
        session.add(instance)
        session.flush()
        for key, value in metadata.items():
            session.add(models.InstanceMetadata(instance_id=instance.id, key=key, value=value))
    # Every column has a value or a Python-side default: nothing to read back.
    return instance


def instance_get_by_uuid(
    context: nova_context.RequestContext, instance_uuid: str
) -> models.Instance:
    """Return the live instance ``instance_uuid`` of the context's project.

    :raises nova.exception.InstanceNotFound: no such instance, or it belongs
        to another project.
    """
    query = sa.select(models.Instance).where(
        models.Instance.uuid == instance_uuid, models.Instance.deleted == 0
    )
    return _one_or_raise(
        _scope_to_project(context, query, models.Instance),
        exception.InstanceNotFound(instance_id=instance_uuid),
    )


def instance_metadata_get(
    context: nova_context.RequestContext, instance_ids: list[int]
) -> dict[int, dict[str, str]]:
    """Return ``{instance id: {key: value}}`` of the live metadata of these instances."""
    if not instance_ids:
        return {}
    query = (
        sa.select(
            models.InstanceMetadata.instance_id,
            models.InstanceMetadata.key,
            models.InstanceMetadata.value,
        )
        .where(
            models.InstanceMetadata.instance_id.in_(instance_ids),
            models.InstanceMetadata.deleted == 0,
        )
        .order_by(models.InstanceMetadata.id)
    )
    metadata: dict[int, dict[str, str]] = {}
    with _reader() as session:
        for instance_id, key, value in session.execute(query):
            metadata.setdefault(instance_id, {})[key] = value
    return metadata


# The order of instance listings: newest first, the id breaking ties.
_NEWEST_FIRST = (models.Instance.created_at.desc(), models.Instance.id.desc())


def _instance_criteria(
    context: nova_context.RequestContext, filters: Mapping[str, Any]
) -> list[sa.ColumnElement[bool]]:
    """Return the WHERE criteria of a listing of live instances (see ``instance_get_all``)."""
    criteria = [models.Instance.deleted == 0]
    if not context.is_admin:
        criteria.append(models.Instance.project_id == context.project_id)
    elif "project_id" in filters:
        criteria.append(models.Instance.project_id == filters["project_id"])
    if filters.get("name"):
        criteria.append(models.Instance.display_name.contains(filters["name"], autoescape=True))
    if filters.get("vm_state"):
        criteria.append(models.Instance.vm_state.in_(filters["vm_state"]))
    if filters.get("host"):
        criteria.append(models.Instance.host == filters["host"])
    return criteria


def _after_marker(
    executor: orm.Session | sa.Connection, context: nova_context.RequestContext, marker: str
) -> sa.ColumnElement[bool]:
    """Return the criterion of the instances listed after instance ``marker``.

    :raises nova.exception.MarkerNotFound: ``marker`` is not a visible instance.
    """
    query = sa.select(models.Instance.created_at, models.Instance.id).where(
        models.Instance.uuid == marker, models.Instance.deleted == 0
    )
    found = executor.execute(_scope_to_project(context, query, models.Instance)).first()
    if found is None:
        raise exception.MarkerNotFound(marker=marker)
    return sa.or_(
        models.Instance.created_at < found.created_at,
        sa.and_(models.Instance.created_at == found.created_at, models.Instance.id < found.id),
    )


def instance_get_all(
    context: nova_context.RequestContext,
    filters: Mapping[str, Any] | None = None,
    limit: int | None = None,
    marker: str | None = None,
) -> list[models.Instance]:
    """Return live instances, newest first, paged after instance ``marker``.

    :param filters: ``name`` (substring of the display name), ``vm_state``
        (a list), ``project_id`` (admins only; others always see their own),
        ``host``.
    :raises nova.exception.MarkerNotFound: ``marker`` is not a visible instance.
    """
    query = sa.select(models.Instance).where(*_instance_criteria(context, filters or {}))
    with _reader() as session:
        if marker is not None:
            query = query.where(_after_marker(session, context, marker))
        return list(session.scalars(query.order_by(*_NEWEST_FIRST).limit(limit)))


def _is_many(value: Any) -> bool:
    return isinstance(value, (list, tuple, set))


def _expectation(value: Any) -> str:
    """Return how ``instance_update`` compares a column with an expected value."""
    if _is_many(value):
        return "in"
    return "null" if value is None else "eq"


# (columns set, (column, expectation) pairs, admin, RETURNING) -> statements.
# Keyed by the shape of a call, not its values: a handful of entries, one per
# kind of transition, built once.
_instance_updates: dict[tuple, tuple[sa.Update, sa.Select]] = {}


def _instance_update_statements(
    columns: tuple[str, ...],
    expectations: tuple[tuple[str, str], ...],
    is_admin: bool,
    returning: bool,
) -> tuple[sa.Update, sa.Select]:
    """Return ``instance_update``'s UPDATE (and the SELECT reading the row back) for a shape."""
    key = (columns, expectations, is_admin, returning)
    statements = _instance_updates.get(key)
    if statements is not None:
        return statements
    instance = models.Instance
    scope = [instance.uuid == sa.bindparam("uuid_"), instance.deleted == 0]
    if not is_admin:
        scope.append(instance.project_id == sa.bindparam("project_id_"))
    conditions = list(scope)
    for column, expectation in expectations:
        attribute = getattr(instance, column)
        if expectation == "in":
            conditions.append(attribute.in_(sa.bindparam(f"expect_{column}", expanding=True)))
        elif expectation == "null":
            conditions.append(attribute.is_(None))
        else:
            conditions.append(attribute == sa.bindparam(f"expect_{column}"))
    update = (
        sa.update(instance)
        .where(*conditions)
        .values(
            {
                getattr(instance, column): sa.bindparam(f"set_{column}")
                for column in (*columns, "updated_at")
            }
        )
        .execution_options(synchronize_session=False)
    )
    if returning:
        update = update.returning(instance)
    statements = (update, sa.select(instance).where(*scope))
    _instance_updates[key] = statements
    return statements


def instance_update(
    context: nova_context.RequestContext,
    instance_uuid: str,
    values: Mapping[str, Any],
    expected: Mapping[str, Any] | None = None,
) -> models.Instance:
    """Update a live instance; with ``expected``, only if its columns still hold those values.

    The check and the update are one conditional UPDATE, so of two
    concurrent state transitions exactly one wins. The updated row comes
    back from the UPDATE itself (RETURNING) where the database can do that,
    else from a SELECT in the same transaction (MySQL, MariaDB).

    :raises nova.exception.InstanceNotFound: no such instance (in the project).
    :raises nova.exception.InstanceInvalidState: ``expected`` did not match.
    """
    expected = expected or {}
    params = {f"set_{column}": value for column, value in values.items()}
    params["set_updated_at"] = models.utcnow()
    params["uuid_"] = instance_uuid
    if not context.is_admin:
        params["project_id_"] = context.project_id
    for column, value in expected.items():
        if value is not None:
            params[f"expect_{column}"] = list(value) if _is_many(value) else value
    with _transaction() as session:
        returning = session.get_bind().dialect.update_returning
        update, select = _instance_update_statements(
            tuple(values),
            tuple((column, _expectation(value)) for column, value in expected.items()),
            context.is_admin,
            returning,
        )
        if returning:
            instance = session.scalar(update, params)
        elif session.execute(update, params).rowcount:
            instance = session.scalar(select, params)
        else:
            instance = None
    if instance is None:
        current = instance_get_by_uuid(context, instance_uuid)  # raises if gone
        raise exception.InstanceInvalidState(
            instance_id=instance_uuid,
            state=current.vm_state,
            task_state=current.task_state,
            expected=", ".join(f"{k}={v}" for k, v in (expected or {}).items()),
        )
    return instance


def instance_destroy(context: nova_context.RequestContext, instance_uuid: str) -> None:
    """Soft-delete an instance and its metadata (its VIFs are the network's to release).

    :raises nova.exception.InstanceNotFound: no such instance (in the project).
    """
    query = sa.select(models.Instance).where(
        models.Instance.uuid == instance_uuid, models.Instance.deleted == 0
    )
    now = models.utcnow()
    with _transaction() as session:
        instance = session.scalar(_scope_to_project(context, query, models.Instance))
        if instance is None:
            raise exception.InstanceNotFound(instance_id=instance_uuid)
        session.execute(
            sa.update(models.InstanceMetadata)
            .where(
                models.InstanceMetadata.instance_id == instance.id,
                models.InstanceMetadata.deleted == 0,
            )
            .values(_soft_delete_values(models.InstanceMetadata))
            .execution_options(synchronize_session=False)
        )
        session.execute(
            sa.update(models.Instance)
            .where(models.Instance.id == instance.id, models.Instance.deleted == 0)
            .values(
                deleted=models.Instance.id,
                deleted_at=now,
                vm_state="deleted",
                task_state=None,
                terminated_at=now,
            )
            .execution_options(synchronize_session=False)
        )


def instance_set_error(
    context: nova_context.RequestContext, instance_uuid: str, fault: Mapping[str, Any]
) -> None:
    """Put an instance in ERROR and record its fault, in one transaction.

    :raises nova.exception.InstanceNotFound: it is gone.
    """
    query = sa.select(models.Instance).where(
        models.Instance.uuid == instance_uuid, models.Instance.deleted == 0
    )
    with _transaction() as session:
        instance = session.scalar(query)
        if instance is None:
            raise exception.InstanceNotFound(instance_id=instance_uuid)
        instance.vm_state = "error"
        instance.task_state = None
        instance.updated_at = models.utcnow()
        session.add(models.InstanceFault(instance_id=instance.id, **fault))


def instance_fault_create(
    context: nova_context.RequestContext, instance_id: int, values: Mapping[str, Any]
) -> models.InstanceFault:
    """Record a fault (``code``, ``message``, ``details``, ``host``) of an instance."""
    fault = models.InstanceFault(instance_id=instance_id, **values)
    with _transaction() as session:
        session.add(fault)
    return fault


def instance_fault_get_latest(
    context: nova_context.RequestContext, instance_ids: list[int]
) -> dict[int, models.InstanceFault]:
    """Return the newest fault of each of ``instance_ids`` that has one."""
    if not instance_ids:
        return {}
    query = (
        sa.select(models.InstanceFault)
        .where(
            models.InstanceFault.instance_id.in_(instance_ids),
            models.InstanceFault.deleted == 0,
        )
        .order_by(models.InstanceFault.id)
    )
    with _reader() as session:
        return {fault.instance_id: fault for fault in session.scalars(query)}


# --- virtual interfaces --------------------------------------------------------


def generate_mac_address() -> str:
    """Return a random MAC address with Nova's ``fa:16:3e`` prefix."""
    octets = (*MAC_PREFIX, *secrets.token_bytes(3))
    return ":".join(f"{octet:02x}" for octet in octets)


def _live_vif_with(session: orm.Session, column: sa.Column, value: str) -> bool:
    query = sa.select(models.VirtualInterface.id).where(
        column == value, models.VirtualInterface.deleted == 0
    )
    return session.scalar(query) is not None


def virtual_interface_create(
    context: nova_context.RequestContext, values: Mapping[str, Any]
) -> models.VirtualInterface:
    """Create a VIF for ``values["instance_id"]``.

    ``uuid`` and ``address`` are generated when not given; a generated MAC
    that collides with a live VIF's is replaced by another, up to
    ``MAC_ATTEMPTS`` times.

    :raises nova.exception.VirtualInterfaceMacAddressConflict: the given
        ``address`` belongs to a live VIF.
    :raises nova.exception.PortInUse: ``port_id`` is bound to a live VIF.
    :raises nova.exception.VirtualInterfaceCreateFailed: no free MAC found.
    """
    values = dict(values)
    values.setdefault("uuid", str(uuidlib.uuid4()))
    generate = "address" not in values
    for attempt in range(1, MAC_ATTEMPTS + 1):
        if generate:
            values["address"] = generate_mac_address()
        vif = models.VirtualInterface(**values)
        try:
            with _transaction() as session:
                session.add(vif)
            return vif
        except sa_exc.IntegrityError:
            with _reader() as session:
                port_id = values.get("port_id")
                if port_id and _live_vif_with(session, models.VirtualInterface.port_id, port_id):
                    raise exception.PortInUse(port_id=port_id) from None
                mac_taken = _live_vif_with(
                    session, models.VirtualInterface.address, values["address"]
                )
            if not mac_taken:
                raise
            if not generate:
                raise exception.VirtualInterfaceMacAddressConflict(
                    address=values["address"]
                ) from None
            LOG.info(
                "MAC address %s is taken (attempt %d of %d); trying another",
                values["address"],
                attempt,
                MAC_ATTEMPTS,
            )
    raise exception.VirtualInterfaceCreateFailed(
        instance_id=values.get("instance_id"), attempts=MAC_ATTEMPTS
    )


def _vif_query(context: nova_context.RequestContext) -> sa.Select:
    query = (
        sa.select(models.VirtualInterface)
        .join(models.Instance, models.Instance.id == models.VirtualInterface.instance_id)
        .where(models.VirtualInterface.deleted == 0, models.Instance.deleted == 0)
    )
    return _scope_to_project(context, query, models.Instance)


def virtual_interface_get_by_uuid(
    context: nova_context.RequestContext, vif_uuid: str
) -> models.VirtualInterface:
    """Return the live VIF ``vif_uuid`` of an instance of the context's project.

    :raises nova.exception.VirtualInterfaceNotFound: no such VIF, or it
        belongs to another project's instance.
    """
    return _one_or_raise(
        _vif_query(context).where(models.VirtualInterface.uuid == vif_uuid),
        exception.VirtualInterfaceNotFound(vif_id=vif_uuid),
    )


def virtual_interface_get_by_instance(
    context: nova_context.RequestContext,
    instance_id: int,
    limit: int | None = None,
    offset: int = 0,
) -> list[models.VirtualInterface]:
    """Return the live VIFs of instance ``instance_id`` in creation order, paged.

    :param limit: at most this many VIFs (``None``: all).
    :param offset: skip this many VIFs first.
    """
    query = (
        _vif_query(context)
        .where(models.VirtualInterface.instance_id == instance_id)
        .order_by(models.VirtualInterface.id)
        .offset(offset)
        .limit(limit)
    )
    with _reader() as session:
        return list(session.scalars(query))


def virtual_interface_delete_by_instance(
    context: nova_context.RequestContext, instance_id: int
) -> int:
    """Soft-delete every live VIF of instance ``instance_id``; return how many."""
    statement = (
        sa.update(models.VirtualInterface)
        .where(
            models.VirtualInterface.instance_id == instance_id,
            models.VirtualInterface.deleted == 0,
        )
        .values(_soft_delete_values(models.VirtualInterface))
        .execution_options(synchronize_session=False)
    )
    with _transaction() as session:
        return session.execute(statement).rowcount


def virtual_interface_delete(context: nova_context.RequestContext, vif_id: int) -> int:
    """Soft-delete the live VIF whose internal id is ``vif_id``; return 1, or 0 if gone."""
    statement = (
        sa.update(models.VirtualInterface)
        .where(models.VirtualInterface.id == vif_id, models.VirtualInterface.deleted == 0)
        .values(_soft_delete_values(models.VirtualInterface))
        .execution_options(synchronize_session=False)
    )
    with _transaction() as session:
        return session.execute(statement).rowcount
