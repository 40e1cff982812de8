"""The database API: the only module that reads and writes Nova's tables.

Functions take a ``RequestContext`` first; a non-admin context only sees
rows of its own project. Rows are soft-deleted (``deleted`` set to the row's
id), so unique constraints that include ``deleted`` bind live rows only.
Returned objects are detached from their session and safe to keep.
"""

from __future__ import annotations

import collections
import contextlib
import datetime
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
from nova.db import prepared

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
            prepared.compile_all(_engine.dialect)
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


def _record_type(model: type[models.Base]) -> type[tuple]:
    """A named tuple of a model's columns: its rows as the hot paths read and return them."""
    return collections.namedtuple(f"{model.__name__}Record", model.__table__.c.keys())


#: A row of ``instances``, ``virtual_interfaces``, ``instance_types``: what
#: the functions on the launch pipeline's path return instead of ORM objects
#: (same attributes, read-only, a tenth of the cost).
InstanceRecord = _record_type(models.Instance)
VirtualInterfaceRecord = _record_type(models.VirtualInterface)
FlavorRecord = _record_type(models.Flavor)

_instances = models.Instance.__table__
_vifs = models.VirtualInterface.__table__
_flavors = models.Flavor.__table__


def _project_scoped(statement: sa.Select | sa.Update) -> dict[bool, prepared.Prepared]:
    """Return ``{is_admin: statement}``: as is for admins, else bound to ``:project_id``."""
    return {
        True: prepared.Prepared(statement),
        False: prepared.Prepared(
            statement.where(_instances.c.project_id == sa.bindparam("project_id"))
        ),
    }


def _scope_params(context: nova_context.RequestContext, **params: Any) -> dict[str, Any]:
    if not context.is_admin:
        params["project_id"] = context.project_id
    return params


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


_FLAVOR_BY_FLAVORID = prepared.Prepared(
    sa.select(_flavors).where(
        _flavors.c.flavorid == sa.bindparam("flavorid"), _flavors.c.deleted == 0
    )
)


def flavor_get_by_flavor_id(context: nova_context.RequestContext, flavor_id: str) -> FlavorRecord:
    """Return the live flavor whose public id is ``flavor_id``.

    :raises nova.exception.FlavorNotFound: no such flavor.
    """
    rows = _FLAVOR_BY_FLAVORID.run(get_engine(), {"flavorid": flavor_id})
    if not rows:
        raise exception.FlavorNotFound(flavor_id=flavor_id)
    return FlavorRecord._make(rows[0])


# --- instances -----------------------------------------------------------------


_INSERT_INSTANCE = prepared.PreparedInsert(_instances)
_INSERT_METADATA = prepared.PreparedInsert(models.InstanceMetadata.__table__)


def instance_create(
    context: nova_context.RequestContext, values: Mapping[str, Any]
) -> InstanceRecord:
    """Create an instance from ``values``; ``metadata`` (a dict) becomes its rows.

    A ``uuid`` is generated when not given.
    """
    values = dict(values)
    metadata = values.pop("metadata", None) or {}
    values.setdefault("uuid", str(uuidlib.uuid4()))
    row = _INSERT_INSTANCE.values(values)
    with prepared.writing(get_engine()) as transaction:
        row["id"] = _INSERT_INSTANCE.insert(transaction, row)
        for key, value in metadata.items():
            item = _INSERT_METADATA.values({"instance_id": row["id"], "key": key, "value": value})
            _INSERT_METADATA.insert(transaction, item)
    return InstanceRecord(**row)


_INSTANCE_BY_UUID = _project_scoped(
    sa.select(_instances).where(
        _instances.c.uuid == sa.bindparam("uuid"), _instances.c.deleted == 0
    )
)


def instance_get_by_uuid(
    context: nova_context.RequestContext, instance_uuid: str
) -> InstanceRecord:
    """Return the live instance ``instance_uuid`` of the context's project.

    :raises nova.exception.InstanceNotFound: no such instance, or it belongs
        to another project.
    """
    rows = _INSTANCE_BY_UUID[context.is_admin].run(
        get_engine(), _scope_params(context, uuid=instance_uuid)
    )
    if not rows:
        raise exception.InstanceNotFound(instance_id=instance_uuid)
    return InstanceRecord._make(rows[0])


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
    """Return the WHERE criteria of a listing of live instances (see ``instance_get_all``).

    With ``changes_since`` (a naive UTC datetime) the listing is of the
    instances created, updated or deleted at or after that time, deleted ones
    included (so that a poller sees deletions, as in Nova's API). On MySQL
    and MariaDB the time is taken down to its whole second: they keep
    ``DATETIME`` columns in whole seconds (MariaDB truncating), so a change
    stored as 12:00:00 may have been made at 12:00:00.6 and must not be
    missed by a listing of the changes since 12:00:00.5.
    """
    since = filters.get("changes_since")
    if since is None:
        criteria = [models.Instance.deleted == 0]
    else:
        if get_engine().dialect.name == "mysql":
            since = since.replace(microsecond=0)
        criteria = [
            sa.or_(
                # Never updated: created_at (updated_at is set by updates only).
                sa.func.coalesce(models.Instance.updated_at, models.Instance.created_at) >= since,
                models.Instance.deleted_at >= since,
            )
        ]
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
    executor: orm.Session | sa.Connection,
    context: nova_context.RequestContext,
    marker: str,
    include_deleted: bool = False,
) -> sa.ColumnElement[bool]:
    """Return the criterion of the instances listed after instance ``marker``.

    :param include_deleted: ``marker`` may be a deleted instance (a
        ``changes-since`` page may end on one; the next starts after it).
    :raises nova.exception.MarkerNotFound: ``marker`` is not a visible instance.
    """
    query = sa.select(models.Instance.created_at, models.Instance.id).where(
        models.Instance.uuid == marker
    )
    if not include_deleted:
        query = query.where(models.Instance.deleted == 0)
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


def _expectation(value: Any) -> str | int:
    """Return how ``instance_update`` compares a column with an expected value.

    ``"null"``, ``"eq"``, or for a list of values their number (``IN`` with
    one parameter each: a prepared statement has a fixed number of them).
    """
    if _is_many(value):
        return len(value)
    return "null" if value is None else "eq"


# (columns set, (column, expectation) pairs, admin, RETURNING) -> statements.
# Keyed by the shape of a call, not its values: a handful of entries, one per
# kind of transition, built once.
_instance_updates: dict[tuple, tuple[prepared.Prepared, prepared.Prepared]] = {}


def _instance_update_statements(
    columns: tuple[str, ...],
    expectations: tuple[tuple[str, str | int], ...],
    is_admin: bool,
    returning: bool,
) -> tuple[prepared.Prepared, prepared.Prepared]:
    """Return ``instance_update``'s UPDATE (and the SELECT reading the row back) for a shape."""
    key = (columns, expectations, is_admin, returning)
    statements = _instance_updates.get(key)
    if statements is not None:
        return statements
    scope = [_instances.c.uuid == sa.bindparam("uuid_"), _instances.c.deleted == 0]
    if not is_admin:
        scope.append(_instances.c.project_id == sa.bindparam("project_id_"))
    conditions = list(scope)
    for column, expectation in expectations:
        attribute = _instances.c[column]
        if expectation == "null":
            conditions.append(attribute.is_(None))
        elif expectation == "eq":
            conditions.append(attribute == sa.bindparam(f"expect_{column}"))
        elif expectation:
            binds = [sa.bindparam(f"expect_{column}_{i}") for i in range(expectation)]
            conditions.append(attribute.in_(binds))
        else:
            conditions.append(sa.false())  # expected to be one of no values
    update = (
        sa.update(_instances)
        .where(*conditions)
        .values({column: sa.bindparam(f"set_{column}") for column in (*columns, "updated_at")})
    )
    if returning:
        update = update.returning(*_instances.c)
    statements = (prepared.Prepared(update), prepared.Prepared(sa.select(_instances).where(*scope)))
    _instance_updates[key] = statements
    return statements


def instance_update(
    context: nova_context.RequestContext,
    instance_uuid: str,
    values: Mapping[str, Any],
    expected: Mapping[str, Any] | None = None,
) -> InstanceRecord:
    """Update a live instance; with ``expected``, only if its columns still hold those values.

    The check and the update are one conditional UPDATE, so of two
    concurrent state transitions exactly one wins. The updated row comes
    back from the UPDATE itself (RETURNING) where the database can do that,
    else from a SELECT in the same transaction (MySQL, MariaDB).

    :raises nova.exception.InstanceNotFound: no such instance (in the project).
    :raises nova.exception.InstanceInvalidState: ``expected`` did not match.
    """
    with prepared.writing(get_engine()) as transaction:
        updated = instance_update_in(transaction, context, instance_uuid, values, expected)
    if updated is None:
        raise instance_update_refused(context, instance_uuid, expected)
    return updated


def instance_update_in(
    transaction: prepared.Transaction,
    context: nova_context.RequestContext,
    instance_uuid: str,
    values: Mapping[str, Any],
    expected: Mapping[str, Any] | None = None,
) -> InstanceRecord | None:
    """``instance_update`` inside ``transaction``; None if the instance did not qualify."""
    expected = expected or {}
    params = {f"set_{column}": value for column, value in values.items()}
    params["set_updated_at"] = models.utcnow()
    params["uuid_"] = instance_uuid
    if not context.is_admin:
        params["project_id_"] = context.project_id
    for column, value in expected.items():
        if _is_many(value):
            params.update((f"expect_{column}_{i}", item) for i, item in enumerate(value))
        elif value is not None:
            params[f"expect_{column}"] = value
    returning = transaction.dialect.update_returning
    update, select = _instance_update_statements(
        tuple(values),
        tuple((column, _expectation(value)) for column, value in expected.items()),
        context.is_admin,
        returning,
    )
    if returning:
        rows = update.rows(transaction, params)
    elif update.count(transaction, params):
        rows = select.rows(transaction, params)
    else:
        return None
    return InstanceRecord._make(rows[0]) if rows else None


def instance_update_refused(
    context: nova_context.RequestContext,
    instance_uuid: str,
    expected: Mapping[str, Any] | None,
) -> exception.NovaException:
    """Return why an instance did not qualify for an update: gone, or in another state."""
    try:
        current = instance_get_by_uuid(context, instance_uuid)
    except exception.InstanceNotFound as gone:
        return gone
    return exception.InstanceInvalidState(
        instance_id=instance_uuid,
        state=current.vm_state,
        task_state=current.task_state,
        expected=", ".join(f"{k}={v}" for k, v in (expected or {}).items()),
    )


_UNSCHEDULED = prepared.Prepared(
    sa.select(_instances.c.uuid).where(
        _instances.c.deleted == 0,
        _instances.c.vm_state == "building",
        _instances.c.task_state == "scheduling",
        _instances.c.host.is_(None),
        sa.func.coalesce(_instances.c.updated_at, _instances.c.created_at)
        < sa.bindparam("before", type_=sa.DateTime),
    )
)


def instance_get_unscheduled(
    context: nova_context.RequestContext, before: datetime.datetime
) -> list[str]:
    """Return the uuids of the live instances waiting for a host since before ``before``."""
    return [uuid for (uuid,) in _UNSCHEDULED.run(get_engine(), {"before": before})]


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


_INSERT_FAULT = prepared.PreparedInsert(models.InstanceFault.__table__)


def instance_set_error(
    context: nova_context.RequestContext,
    instance_uuid: str,
    fault: Mapping[str, Any],
    expected: Mapping[str, Any] | None = None,
) -> None:
    """Put an instance in ERROR and record its fault, in one transaction.

    With ``expected``, only if its columns still hold those values (as
    ``instance_update``).

    :raises nova.exception.InstanceNotFound: it is gone.
    :raises nova.exception.InstanceInvalidState: ``expected`` did not match.
    """
    values = {"vm_state": "error", "task_state": None}
    with prepared.writing(get_engine()) as transaction:
        instance = instance_update_in(transaction, context, instance_uuid, values, expected)
        if instance is not None:
            row = _INSERT_FAULT.values({"instance_id": instance.id, **fault})
            _INSERT_FAULT.insert(transaction, row)
    if instance is None:
        raise instance_update_refused(context, instance_uuid, expected)


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


_INSERT_VIF = prepared.PreparedInsert(_vifs)


def virtual_interface_create(
    context: nova_context.RequestContext, values: Mapping[str, Any]
) -> VirtualInterfaceRecord:
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
    engine = get_engine()
    for attempt in range(1, MAC_ATTEMPTS + 1):
        if generate:
            values["address"] = generate_mac_address()
        row = _INSERT_VIF.values(values)
        try:
            with prepared.writing(engine) as transaction:
                row["id"] = _INSERT_VIF.insert(transaction, row)
            return VirtualInterfaceRecord(**row)
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


_VIFS_OF_INSTANCE = _project_scoped(
    sa.select(_vifs)
    .join(_instances, _instances.c.id == _vifs.c.instance_id)
    .where(
        _vifs.c.instance_id == sa.bindparam("instance_id"),
        _vifs.c.deleted == 0,
        _instances.c.deleted == 0,
    )
    .order_by(_vifs.c.id)
)


def virtual_interface_get_by_instance(
    context: nova_context.RequestContext, instance_id: int
) -> list[VirtualInterfaceRecord]:
    """Return the live VIFs of instance ``instance_id`` in creation order."""
    rows = _VIFS_OF_INSTANCE[context.is_admin].run(
        get_engine(), _scope_params(context, instance_id=instance_id)
    )
    return [VirtualInterfaceRecord._make(row) for row in rows]


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
