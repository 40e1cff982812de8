"""The data API of flavors and their extra specs (written by admins through the API)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from oslo_db import exception as db_exception

from nova import context as nova_context
from nova import exception
from nova.db import models
from nova.db import records
from nova.db import session

_flavors = models.Base.metadata.tables["flavors"]

_FLAVOR_BY_FLAVORID = sa.select(_flavors).where(
    _flavors.c.flavorid == sa.bindparam("flavorid"), _flavors.c.deleted == 0
)


def flavor_get_all(
    context: nova_context.RequestContext,
    filters: Mapping[str, Any] | None = None,
    sort: tuple[str, str] = ("flavorid", "asc"),
) -> list[records.Flavor]:
    """Return the live flavors that fit ``filters``, in order of column ``sort[0]``.

    :param filters: ``is_public`` (True or False; None or absent: both),
        ``disabled``, ``min_memory_mb``, ``min_root_gb``.
    :param sort: ``(column, "asc"|"desc")``; the flavor id breaks ties.
    """
    filters = filters or {}
    columns = _flavors.c
    statement = sa.select(_flavors).where(columns.deleted == 0)
    for name, column in (("is_public", columns.is_public), ("disabled", columns.disabled)):
        if filters.get(name) is not None:
            statement = statement.where(column == filters[name])
    if filters.get("min_memory_mb") is not None:
        statement = statement.where(columns.memory_mb >= filters["min_memory_mb"])
    if filters.get("min_root_gb") is not None:
        statement = statement.where(columns.root_gb >= filters["min_root_gb"])
    key, direction = sort
    order = [columns[key], columns.flavorid]
    statement = statement.order_by(*(c.desc() if direction == "desc" else c.asc() for c in order))
    with session.reader(context, single_statement=True) as conn:
        return [records.Flavor._make(row) for row in conn.execute(statement)]


def flavor_get_by_flavor_id(context: nova_context.RequestContext, flavor_id: str) -> records.Flavor:
    """Return the live flavor whose public id is ``flavor_id`` (a user's: if public).

    :raises nova.exception.FlavorNotFound: no such flavor.
    """
    with session.reader(context, single_statement=True) as conn:
        row = conn.execute(_FLAVOR_BY_FLAVORID, {"flavorid": flavor_id}).first()
    if row is None or not (row.is_public or context.is_admin):
        raise exception.FlavorNotFound(flavor_id=flavor_id)
    return records.Flavor._make(row)


# --- flavor-manage and extra specs (admin writes) ----------------------------------

_specs = models.Base.metadata.tables["flavor_extra_specs"]

_FLAVOR_CLASH = sa.select(_flavors.c.flavorid, _flavors.c.name).where(
    sa.or_(
        _flavors.c.flavorid == sa.bindparam("flavorid"), _flavors.c.name == sa.bindparam("name")
    ),
    _flavors.c.deleted == 0,
)
_LIVE_SPECS = (
    sa.select(_specs.c.key, _specs.c.value)
    .where(_specs.c.flavor_id == sa.bindparam("flavor_pk"), _specs.c.deleted == 0)
    .order_by(_specs.c.key)
)


def flavor_create(context: nova_context.RequestContext, values: dict) -> records.Flavor:
    """Create a flavor from ``values`` (columns of ``flavors``; ``flavorid`` and ``name`` set).

    :raises nova.exception.FlavorIdExists: a live flavor has that ``flavorid``.
    :raises nova.exception.FlavorExists: a live flavor has that ``name``.
    """
    try:
        with session.writer(context) as conn:
            _check_clash(conn, values["flavorid"], values["name"])
            created = session.insert_row(conn, _flavors, values)
    except db_exception.DBDuplicateEntry:
        # A concurrent create won between the check and the insert.
        with session.reader(context) as conn:
            _check_clash(conn, values["flavorid"], values["name"])
        raise exception.FlavorExists(name=values["name"]) from None
    return records.Flavor(**created)


def _check_clash(conn: sa.Connection, flavorid: str, name: str) -> None:
    for row in conn.execute(_FLAVOR_CLASH, {"flavorid": flavorid, "name": name}):
        if row.flavorid == flavorid:
            raise exception.FlavorIdExists(flavor_id=flavorid)
        raise exception.FlavorExists(name=name)


def flavor_destroy(context: nova_context.RequestContext, flavor_id: str) -> None:
    """Soft-delete the live flavor ``flavor_id`` and its extra specs.

    Servers of that flavor keep their copy of its sizes and keep showing its
    id (the row stays, deleted).

    :raises nova.exception.FlavorNotFound: no such flavor.
    """
    with session.writer(context) as conn:
        row = session.one_or_raise(
            conn,
            _FLAVOR_BY_FLAVORID,
            exception.FlavorNotFound(flavor_id=flavor_id),
            {"flavorid": flavor_id},
        )
        conn.execute(
            sa.update(_specs)
            .where(_specs.c.flavor_id == row.id, _specs.c.deleted == 0)
            .values(session.soft_delete_values(_specs))
        )
        conn.execute(
            sa.update(_flavors)
            .where(_flavors.c.id == row.id)
            .values(session.soft_delete_values(_flavors))
        )


def _flavor_pk(conn: sa.Connection, context: nova_context.RequestContext, flavor_id: str) -> int:
    """Return the primary key of the live flavor ``flavor_id`` (a user's: if public)."""
    row = conn.execute(_FLAVOR_BY_FLAVORID, {"flavorid": flavor_id}).first()
    if row is None or not (row.is_public or context.is_admin):
        raise exception.FlavorNotFound(flavor_id=flavor_id)
    return row.id


def extra_specs_get(context: nova_context.RequestContext, flavor_id: str) -> dict[str, str]:
    """Return the extra specs of the live flavor ``flavor_id`` (``{key: value}``).

    :raises nova.exception.FlavorNotFound: no such flavor.
    """
    with session.reader(context) as conn:
        flavor_pk = _flavor_pk(conn, context, flavor_id)
        return {row.key: row.value for row in conn.execute(_LIVE_SPECS, {"flavor_pk": flavor_pk})}


#: Times a write of extra specs is tried when a concurrent one created the same key.
_SPECS_ATTEMPTS = 3


def extra_specs_update_or_create(
    context: nova_context.RequestContext, flavor_id: str, specs: dict[str, str]
) -> dict[str, str]:
    """Set ``specs`` on the live flavor ``flavor_id`` (others kept); return all its specs.

    :raises nova.exception.FlavorNotFound: no such flavor.
    :raises nova.exception.Conflict: concurrent writes of the same keys kept winning.
    """
    for _attempt in range(_SPECS_ATTEMPTS):
        try:
            return _extra_specs_write(context, flavor_id, specs)
        except db_exception.DBDuplicateEntry:
            continue  # another request created one of the keys: now an update
    raise exception.Conflict(reason=f"Concurrent updates of the extra specs of flavor {flavor_id}")


def _extra_specs_write(
    context: nova_context.RequestContext, flavor_id: str, specs: dict[str, str]
) -> dict[str, str]:
    with session.writer(context) as conn:
        flavor_pk = _flavor_pk(conn, context, flavor_id)
        current = {row.key for row in conn.execute(_LIVE_SPECS, {"flavor_pk": flavor_pk})}
        now = models.utcnow()
        for key, value in specs.items():
            if key in current:
                conn.execute(
                    sa.update(_specs)
                    .where(
                        _specs.c.flavor_id == flavor_pk, _specs.c.key == key, _specs.c.deleted == 0
                    )
                    .values(value=value, updated_at=now)
                )
            else:
                session.insert_row(
                    conn, _specs, {"flavor_id": flavor_pk, "key": key, "value": value}
                )
        return {row.key: row.value for row in conn.execute(_LIVE_SPECS, {"flavor_pk": flavor_pk})}


def extra_spec_delete(context: nova_context.RequestContext, flavor_id: str, key: str) -> None:
    """Remove the extra spec ``key`` of the live flavor ``flavor_id``.

    :raises nova.exception.FlavorNotFound: no such flavor.
    :raises nova.exception.FlavorExtraSpecsNotFound: the flavor has no such key.
    """
    with session.writer(context) as conn:
        flavor_pk = _flavor_pk(conn, context, flavor_id)
        deleted = conn.execute(
            sa.update(_specs)
            .where(_specs.c.flavor_id == flavor_pk, _specs.c.key == key, _specs.c.deleted == 0)
            .values(session.soft_delete_values(_specs))
        ).rowcount
    if not deleted:
        raise exception.FlavorExtraSpecsNotFound(flavor_id=flavor_id, extra_specs_key=key)
