"""The data API of flavors (read-only: flavors are made by migrations and operators)."""

from __future__ import annotations

import sqlalchemy as sa

from nova import context as nova_context
from nova import exception
from nova.db import models
from nova.db import records
from nova.db import session

_flavors = models.Base.metadata.tables["flavors"]

_LIVE_FLAVORS = (
    sa.select(_flavors)
    .where(_flavors.c.deleted == 0)
    .order_by(_flavors.c.memory_mb, _flavors.c.flavorid)
)
_FLAVOR_BY_FLAVORID = sa.select(_flavors).where(
    _flavors.c.flavorid == sa.bindparam("flavorid"), _flavors.c.deleted == 0
)


def flavor_get_all(context: nova_context.RequestContext) -> list[records.Flavor]:
    """Return every live flavor, smallest memory first."""
    with session.reader(context, single_statement=True) as conn:
        return [records.Flavor._make(row) for row in conn.execute(_LIVE_FLAVORS)]


def flavor_get_by_flavor_id(context: nova_context.RequestContext, flavor_id: str) -> records.Flavor:
    """Return the live flavor whose public id is ``flavor_id``.

    :raises nova.exception.FlavorNotFound: no such flavor.
    """
    with session.reader(context, single_statement=True) as conn:
        row = conn.execute(_FLAVOR_BY_FLAVORID, {"flavorid": flavor_id}).first()
    if row is None:
        raise exception.FlavorNotFound(flavor_id=flavor_id)
    return records.Flavor._make(row)
