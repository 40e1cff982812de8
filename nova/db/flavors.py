"""The data API of flavors (read-only: flavors are made by migrations and operators)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

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
    """Return the live flavor whose public id is ``flavor_id``.

    :raises nova.exception.FlavorNotFound: no such flavor.
    """
    with session.reader(context, single_statement=True) as conn:
        row = conn.execute(_FLAVOR_BY_FLAVORID, {"flavorid": flavor_id}).first()
    if row is None:
        raise exception.FlavorNotFound(flavor_id=flavor_id)
    return records.Flavor._make(row)
