"""The data API of instances: their rows, metadata and faults, listings and state transitions.

Functions take a ``RequestContext`` first; a non-admin context only sees
instances of its own project. They return ``nova.db.records`` values.
"""

from __future__ import annotations

import uuid as uuidlib
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from nova import context as nova_context
from nova import exception
from nova.db import models
from nova.db import records
from nova.db import session

_instances = models.Base.metadata.tables["instances"]
_metadata = models.Base.metadata.tables["instance_metadata"]
_faults = models.Base.metadata.tables["instance_faults"]

#: The order of instance listings: newest first, the id breaking ties.
NEWEST_FIRST = (_instances.c.created_at.desc(), _instances.c.id.desc())


def instance_create(
    context: nova_context.RequestContext, values: Mapping[str, Any]
) -> records.Instance:
    """Create an instance from ``values``; ``metadata`` (a dict) becomes its rows.

    A ``uuid`` is generated when not given.

    :raises TypeError: a key of ``values`` is not a column.
    """
    with session.writer(context) as conn:
        return instance_create_in(conn, values)


def instance_create_in(conn: sa.Connection, values: Mapping[str, Any]) -> records.Instance:
    """``instance_create`` in the transaction of ``conn``."""
    values = dict(values)
    metadata = values.pop("metadata", None) or {}
    values.setdefault("uuid", str(uuidlib.uuid4()))
    row = session.insert_row(conn, _instances, values)
    if metadata:
        conn.execute(
            sa.insert(_metadata),
            [
                {"instance_id": row["id"], "key": key, "value": value}
                for key, value in metadata.items()
            ],
        )
    return records.Instance(**row)


_INSTANCE_BY_UUID = session.project_scoped(
    sa.select(_instances).where(
        _instances.c.uuid == sa.bindparam("uuid"), _instances.c.deleted == 0
    ),
    _instances.c.project_id,
)


def instance_get_by_uuid(
    context: nova_context.RequestContext, instance_uuid: str
) -> records.Instance:
    """Return the live instance ``instance_uuid`` of the context's project.

    :raises nova.exception.InstanceNotFound: no such instance, or it belongs
        to another project.
    """
    params = session.scope_params(context, uuid=instance_uuid)
    with session.reader(context, single_statement=True) as conn:
        row = conn.execute(_INSTANCE_BY_UUID[context.is_admin], params).first()
    if row is None:
        raise exception.InstanceNotFound(instance_id=instance_uuid)
    return records.Instance._make(row)


def instance_metadata_get(
    context: nova_context.RequestContext, instance_ids: list[int]
) -> dict[int, dict[str, str]]:
    """Return ``{instance id: {key: value}}`` of the live metadata of these instances."""
    if not instance_ids:
        return {}
    statement = (
        sa.select(_metadata.c.instance_id, _metadata.c.key, _metadata.c.value)
        .where(_metadata.c.instance_id.in_(instance_ids), _metadata.c.deleted == 0)
        .order_by(_metadata.c.id)
    )
    metadata: dict[int, dict[str, str]] = {}
    with session.reader(context, single_statement=True) as conn:
        for instance_id, key, value in conn.execute(statement):
            metadata.setdefault(instance_id, {})[key] = value
    return metadata


#: Nova's listing order when none is asked for: newest first, the id breaking ties.
DEFAULT_SORT: tuple[tuple[str, str], ...] = (("created_at", "desc"), ("id", "desc"))

# Columns that are never NULL need no NULL ordering of their own.
_NEVER_NULL = frozenset({"id", "uuid", "created_at", "deleted"})


def _null_flag(column: sa.Column) -> sa.ColumnElement[int]:
    """0 for NULL, 1 otherwise: sorted on first, NULLs come first (ascending) everywhere."""
    return sa.case((column.is_(None), 0), else_=1)


def sort_order(sort: Sequence[tuple[str, str]]) -> list[sa.ColumnElement[Any]]:
    """Return the ORDER BY of ``sort`` (``(column, "asc"|"desc")`` pairs).

    NULLs come first in ascending order and last in descending order, on
    SQLite, PostgreSQL and MySQL alike (``after_marker`` relies on it).
    """
    if tuple(sort) == DEFAULT_SORT:
        return list(NEWEST_FIRST)
    order: list[sa.ColumnElement[Any]] = []
    for name, direction in sort:
        column = _instances.c[name]
        parts = [column] if name in _NEVER_NULL else [_null_flag(column), column]
        order.extend(part.desc() if direction == "desc" else part.asc() for part in parts)
    return order


def instance_criteria(
    context: nova_context.RequestContext, filters: Mapping[str, Any]
) -> list[sa.ColumnElement[bool]]:
    """Return the WHERE criteria of a listing of live instances (see ``instance_get_all``).

    With ``changes_since`` (a naive UTC datetime) the listing is of the
    instances created, updated or deleted at or after that time, deleted ones
    included (so that a poller sees deletions, as in Nova's API). On MySQL
    and MariaDB the time is taken down to its whole second: they keep
    ``DATETIME`` columns in whole seconds (MariaDB truncating), so a change
    stored as 12:00:00 may have been made at 12:00:00.6 and must not be
    missed by a listing of the changes since 12:00:00.5. With ``deleted``
    True (admins), only deleted instances.
    """
    columns = _instances.c
    since = filters.get("changes_since")
    if filters.get("deleted"):
        criteria = [columns.deleted != 0]
    elif since is None:
        criteria = [columns.deleted == 0]
    else:
        criteria = []
    if since is not None:
        if session.get_engine().dialect.name == "mysql":
            since = since.replace(microsecond=0)
        criteria.append(
            sa.or_(
                # Never updated: created_at (updated_at is set by updates only).
                sa.func.coalesce(columns.updated_at, columns.created_at) >= since,
                columns.deleted_at >= since,
            )
        )
    if not context.is_admin:
        criteria.append(columns.project_id == context.project_id)
    elif "project_id" in filters:
        criteria.append(columns.project_id == filters["project_id"])
    if filters.get("name"):
        # A regular expression, as Nova's (REGEXP on SQLite and MySQL, ~ on PostgreSQL).
        criteria.append(columns.display_name.regexp_match(filters["name"]))
    if filters.get("vm_state") is not None:
        criteria.append(columns.vm_state.in_(filters["vm_state"]))
    for name in ("host", "user_id", "uuid", "task_state", "image_ref", "reservation_id"):
        if filters.get(name) is not None:
            criteria.append(columns[name] == filters[name])
    if filters.get("flavor_id") is not None:
        criteria.append(columns.flavor_id == filters["flavor_id"])
    for name, version6 in (("ip", False), ("ip6", True)):
        if filters.get(name):
            criteria.append(_has_fixed_ip(filters[name], version6))
    return criteria


_fixed_ips = models.Base.metadata.tables["fixed_ips"]


def _has_fixed_ip(pattern: str, version6: bool) -> sa.ColumnElement[bool]:
    """Return "the instance has a live fixed IP (v4, or v6) matching the regex ``pattern``"."""
    address = _fixed_ips.c.address
    return sa.exists().where(
        _fixed_ips.c.instance_id == _instances.c.id,
        _fixed_ips.c.deleted == 0,
        address.contains(":") if version6 else sa.not_(address.contains(":")),
        address.regexp_match(pattern),
    )


def after_marker(
    conn: sa.Connection,
    context: nova_context.RequestContext,
    marker: str,
    include_deleted: bool = False,
    sort: Sequence[tuple[str, str]] = DEFAULT_SORT,
) -> sa.ColumnElement[bool]:
    """Return the criterion of the instances listed (``sort_order(sort)``) after ``marker``.

    :param include_deleted: ``marker`` may be a deleted instance (a
        ``changes-since`` page may end on one; the next starts after it).
    :raises nova.exception.MarkerNotFound: ``marker`` is not a visible instance.
    """
    columns = [_instances.c[name] for name, _direction in sort]
    statement = sa.select(*columns).where(_instances.c.uuid == marker)
    if not include_deleted:
        statement = statement.where(_instances.c.deleted == 0)
    statement = session.scope_to_project(context, statement, _instances.c.project_id)
    found = session.one_or_raise(conn, statement, exception.MarkerNotFound(marker=marker))
    # Lexicographic: equal on the keys before, after on this one.
    alternatives = []
    equal: list[sa.ColumnElement[bool]] = []
    for column, (name, direction), value in zip(columns, sort, found, strict=True):
        after: sa.ColumnElement[bool]
        if direction == "desc":  # NULLs last
            if value is None:
                after = sa.false()
            elif name in _NEVER_NULL:
                after = column < value
            else:
                after = sa.or_(column < value, column.is_(None))
        else:  # NULLs first
            after = column.is_not(None) if value is None else column > value
        alternatives.append(sa.and_(*equal, after))
        equal.append(column.is_(None) if value is None else column == value)
    # The same rows, with a bound on the first key the database can seek to in
    # an index in the listing's order (keyset paging: the page reads only its
    # rows, however deep; an OR alone is a filter over every row before it).
    (first_name, first_direction), first_value = sort[0], found[0]
    if first_name in _NEVER_NULL and first_value is not None:
        first = columns[0]
        bound = first <= first_value if first_direction == "desc" else first >= first_value
        return sa.and_(bound, sa.or_(*alternatives))
    return sa.or_(*alternatives)


def instance_get_all(
    context: nova_context.RequestContext,
    filters: Mapping[str, Any] | None = None,
    limit: int | None = None,
    marker: str | None = None,
) -> list[records.Instance]:
    """Return live instances, newest first, paged after instance ``marker``.

    :param filters: ``name`` (a regular expression the display name
        matches), ``vm_state`` (a list), ``project_id`` (admins only; others
        always see their own), ``host`` and the others of ``instance_criteria``.
    :raises nova.exception.MarkerNotFound: ``marker`` is not a visible instance.
    """
    statement = sa.select(_instances).where(*instance_criteria(context, filters or {}))
    with session.reader(context) as conn:
        if marker is not None:
            statement = statement.where(after_marker(conn, context, marker))
        rows = conn.execute(statement.order_by(*NEWEST_FIRST).limit(limit)).all()
    return [records.Instance._make(row) for row in rows]


# --- state transitions -----------------------------------------------------------------

# (columns set, (column, kind of expectation) pairs, admin, RETURNING) -> the
# UPDATE and the SELECT reading the row back. Keyed by the shape of a call,
# not its values: a handful of entries, one per kind of transition, built once
# (a statement built per call would pay for its cache key every time).
_updates: dict[tuple, tuple[sa.Update, sa.Select]] = {}


def _expectation(value: Any) -> str | int:
    """Return how ``instance_update`` compares a column with an expected value.

    ``"null"``, ``"eq"``, or for a list of values their number: ``IN`` with
    one parameter each, because an expanding parameter would have the
    statement's SQL rendered again at every execution.
    """
    if isinstance(value, (list, tuple, set, frozenset)):
        return len(value)
    return "null" if value is None else "eq"


def _update_statements(
    columns: tuple[str, ...],
    expectations: tuple[tuple[str, str | int], ...],
    is_admin: bool,
    returning: bool,
) -> tuple[sa.Update, sa.Select]:
    key = (columns, expectations, is_admin, returning)
    statements = _updates.get(key)
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
            binds = [
                sa.bindparam(f"expect_{column}_{i}", type_=attribute.type)
                for i in range(int(expectation))
            ]
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
    statements = (update, sa.select(_instances).where(*scope))
    _updates[key] = statements
    return statements


def instance_update(
    context: nova_context.RequestContext,
    instance_uuid: str,
    values: Mapping[str, Any],
    expected: Mapping[str, Any] | None = None,
) -> records.Instance:
    """Update a live instance; with ``expected``, only if its columns still hold those values.

    The check and the update are one conditional UPDATE, so of two
    concurrent state transitions exactly one wins. The updated row comes
    back from the UPDATE itself (RETURNING) where the database can do that,
    else from a SELECT in the same transaction (MySQL, MariaDB).

    :param expected: ``{column: value}``; a list or tuple value means "one of".
    :raises nova.exception.InstanceNotFound: no such instance (in the project).
    :raises nova.exception.InstanceInvalidState: ``expected`` did not match.
    """
    with session.writer(context) as conn:
        updated = instance_update_in(conn, context, instance_uuid, values, expected)
    if updated is None:
        raise instance_update_refused(context, instance_uuid, expected)
    return updated


def instance_update_in(
    conn: sa.Connection,
    context: nova_context.RequestContext,
    instance_uuid: str,
    values: Mapping[str, Any],
    expected: Mapping[str, Any] | None = None,
) -> records.Instance | None:
    """``instance_update`` in the transaction of ``conn``; None if the instance did not qualify."""
    expected = expected or {}
    params: dict[str, Any] = {f"set_{column}": value for column, value in values.items()}
    params["set_updated_at"] = models.utcnow()
    params["uuid_"] = instance_uuid
    if not context.is_admin:
        params["project_id_"] = context.project_id
    for column, value in expected.items():
        if isinstance(value, (list, tuple, set, frozenset)):
            params.update((f"expect_{column}_{i}", item) for i, item in enumerate(value))
        elif value is not None:
            params[f"expect_{column}"] = value
    returning = conn.dialect.update_returning
    update, select = _update_statements(
        tuple(values),
        tuple((column, _expectation(value)) for column, value in expected.items()),
        context.is_admin,
        returning,
    )
    if returning:
        row = conn.execute(update, params).first()
    elif conn.execute(update, params).rowcount:
        row = conn.execute(select, params).first()
    else:
        return None
    return None if row is None else records.Instance._make(row)


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


#: Every live building instance with its host, task state and the time of its last change.
BUILDING = sa.select(
    _instances.c.uuid,
    _instances.c.host,
    _instances.c.task_state,
    sa.func.coalesce(_instances.c.updated_at, _instances.c.created_at).label("changed_at"),
).where(_instances.c.deleted == 0, _instances.c.vm_state == "building")


def instance_get_building(context: nova_context.RequestContext) -> list[records.BuildingInstance]:
    """Return every live instance in vm_state ``building`` (any project), oldest change first."""
    statement = BUILDING.order_by(sa.literal_column("changed_at"))
    with session.reader(context, single_statement=True) as conn:
        return [records.BuildingInstance._make(row) for row in conn.execute(statement)]


def instance_destroy(
    context: nova_context.RequestContext,
    instance_uuid: str,
    expected: Mapping[str, Any] | None = None,
) -> records.Instance:
    """Soft-delete an instance and its metadata (its VIFs are the network's to release).

    With ``expected``, only if its columns still hold those values (as
    ``instance_update``). Return the row as it was deleted.

    :raises nova.exception.InstanceNotFound: no such instance (in the project).
    :raises nova.exception.InstanceInvalidState: ``expected`` did not match.
    """
    with session.writer(context) as conn:
        destroyed = instance_destroy_in(conn, context, instance_uuid, expected)
    if destroyed is None:
        raise instance_update_refused(context, instance_uuid, expected)
    return destroyed


def instance_destroy_in(
    conn: sa.Connection,
    context: nova_context.RequestContext,
    instance_uuid: str,
    expected: Mapping[str, Any] | None = None,
) -> records.Instance | None:
    """``instance_destroy`` in the transaction of ``conn``; None if the instance did not qualify."""
    now = models.utcnow()
    values = {"vm_state": "deleted", "task_state": None, "terminated_at": now, "deleted_at": now}
    row = instance_update_in(conn, context, instance_uuid, values, expected)
    if row is None:
        return None
    conn.execute(_DESTROY_METADATA, {"of_instance": row.id, "deleted_now": now})
    conn.execute(_DESTROY, {"of_instance": row.id})
    return row._replace(deleted=row.id)


_DESTROY_METADATA = (
    sa.update(_metadata)
    .where(_metadata.c.instance_id == sa.bindparam("of_instance"), _metadata.c.deleted == 0)
    .values(deleted=_metadata.c.id, deleted_at=sa.bindparam("deleted_now"))
)
_DESTROY = (
    sa.update(_instances)
    .where(_instances.c.id == sa.bindparam("of_instance"), _instances.c.deleted == 0)
    .values(deleted=_instances.c.id)
)


# --- faults ----------------------------------------------------------------------------


def instance_fault_create(
    context: nova_context.RequestContext, instance_id: int, values: Mapping[str, Any]
) -> records.InstanceFault:
    """Record a fault (``code``, ``message``, ``details``, ``host``) of an instance."""
    with session.writer(context) as conn:
        row = session.insert_row(conn, _faults, {"instance_id": instance_id, **values})
    return records.InstanceFault(**row)


def instance_fault_get_latest(
    context: nova_context.RequestContext, instance_ids: list[int]
) -> dict[int, records.InstanceFault]:
    """Return the newest fault of each of ``instance_ids`` that has one."""
    if not instance_ids:
        return {}
    statement = (
        sa.select(_faults)
        .where(_faults.c.instance_id.in_(instance_ids), _faults.c.deleted == 0)
        .order_by(_faults.c.id)
    )
    with session.reader(context, single_statement=True) as conn:
        faults = [records.InstanceFault._make(row) for row in conn.execute(statement)]
    return {fault.instance_id: fault for fault in faults}
