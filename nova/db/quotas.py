"""The data API of quotas: projects' own limits, usage counted from the tables, checked creates.

Usage is never stored: it is counted from the live rows (instances of a
project, key pairs of a user) in the transaction that checks it, so it
cannot drift from what exists. A checked create counts and inserts in one
transaction, which is serialized with every other checked create of the
same project: on SQLite by the database's one writer (``BEGIN IMMEDIATE``),
on PostgreSQL and MySQL by the row lock of the project's ``project_locks``
row (``SELECT ... FOR UPDATE``, taken before anything is read, so that the
count that follows sees every create committed before the lock was had).
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from oslo_db import exception as db_exc

from nova import context as nova_context
from nova.db import instances as instance_db
from nova.db import models
from nova.db import records
from nova.db import session

_quotas = models.Base.metadata.tables["quotas"]
_locks = models.Base.metadata.tables["project_locks"]
_instances = models.Base.metadata.tables["instances"]
_key_pairs = models.Base.metadata.tables["key_pairs"]

#: Usage of a project: ``{"instances": n, "cores": n, "ram": MiB}``.
Usage = dict[str, int]

_OWN_LIMITS = sa.select(_quotas.c.resource, _quotas.c.hard_limit).where(
    _quotas.c.project_id == sa.bindparam("of_project"), _quotas.c.deleted == 0
)
_INSTANCE_USAGE = sa.select(
    sa.func.count(_instances.c.id),
    sa.func.coalesce(sa.func.sum(_instances.c.vcpus), 0),
    sa.func.coalesce(sa.func.sum(_instances.c.memory_mb), 0),
).where(_instances.c.project_id == sa.bindparam("of_project"), _instances.c.deleted == 0)
# The project's own limits and its instance usage in one statement (the
# checked create's only read): a first row (NULL, instances, cores, ram),
# then one (resource, limit, NULL, NULL) per limit set.
_LIMITS_AND_USAGE = sa.union_all(
    sa.select(
        sa.null().label("resource"),
        sa.func.count(_instances.c.id).label("value"),
        sa.func.coalesce(sa.func.sum(_instances.c.vcpus), 0).label("cores"),
        sa.func.coalesce(sa.func.sum(_instances.c.memory_mb), 0).label("ram"),
    ).where(_instances.c.project_id == sa.bindparam("of_project"), _instances.c.deleted == 0),
    sa.select(_quotas.c.resource, _quotas.c.hard_limit, sa.null(), sa.null()).where(
        _quotas.c.project_id == sa.bindparam("of_project"), _quotas.c.deleted == 0
    ),
)
_KEY_PAIR_USAGE = sa.select(sa.func.count(_key_pairs.c.id)).where(
    _key_pairs.c.user_id == sa.bindparam("of_user"), _key_pairs.c.deleted == 0
)
_LOCK = (
    sa.select(_locks.c.id)
    .where(_locks.c.project_id == sa.bindparam("of_project"), _locks.c.deleted == 0)
    .with_for_update()
)
_DESTROY_LIMITS = (
    sa.update(_quotas)
    .where(_quotas.c.project_id == sa.bindparam("of_project"), _quotas.c.deleted == 0)
    .values(deleted=_quotas.c.id, deleted_at=sa.bindparam("deleted_now"))
)


def quota_get_all(context: nova_context.RequestContext, project_id: str) -> dict[str, int]:
    """Return the limits set for ``project_id`` (``{resource: limit}``, no defaults)."""
    with session.reader(context, single_statement=True) as conn:
        return dict(conn.execute(_OWN_LIMITS, {"of_project": project_id}).all())


def quota_set(
    context: nova_context.RequestContext, project_id: str, limits: Mapping[str, int]
) -> None:
    """Set limits of ``project_id`` (``{resource: hard limit}``), replacing those it had.

    Under the project's quota lock: two concurrent settings of one limit
    follow each other (each replaces the other's row) instead of clashing.
    """
    if not limits:
        return
    now = models.utcnow()

    def work(conn: sa.Connection) -> None:
        conn.execute(
            sa.update(_quotas)
            .where(
                _quotas.c.project_id == project_id,
                _quotas.c.resource.in_(list(limits)),
                _quotas.c.deleted == 0,
            )
            .values(deleted=_quotas.c.id, deleted_at=now)
        )
        conn.execute(
            sa.insert(_quotas),
            [
                {
                    "project_id": project_id,
                    "resource": resource,
                    "hard_limit": limit,
                    "created_at": now,
                }
                for resource, limit in limits.items()
            ],
        )

    _checked(context, project_id, work)


def quota_destroy_all(context: nova_context.RequestContext, project_id: str) -> None:
    """Forget every limit set for ``project_id``: it has the defaults again."""
    with session.writer(context) as conn:
        conn.execute(_DESTROY_LIMITS, {"of_project": project_id, "deleted_now": models.utcnow()})


def _instance_usage(conn: sa.Connection, project_id: str | None) -> Usage:
    count, cores, ram = conn.execute(_INSTANCE_USAGE, {"of_project": project_id}).one()
    return {"instances": int(count), "cores": int(cores), "ram": int(ram)}


def usage_get(
    context: nova_context.RequestContext, project_id: str, user_id: str | None = None
) -> Usage:
    """Return what ``project_id`` uses: instances, cores, ram (and ``user_id``'s key_pairs)."""
    with session.reader(context) as conn:
        usage = _instance_usage(conn, project_id)
        if user_id is not None:
            usage["key_pairs"] = conn.execute(_KEY_PAIR_USAGE, {"of_user": user_id}).scalar_one()
    return usage


class _LockMissing(Exception):
    """The project has no ``project_locks`` row yet (made outside the transaction)."""


def _lock_project(conn: sa.Connection, project_id: str | None) -> None:
    """Take the project's row lock; SQLite's writer holds the database's lock already.

    :raises _LockMissing: the project has no lock row yet.
    """
    if conn.dialect.name == "sqlite":
        return
    if conn.execute(_LOCK, {"of_project": project_id}).first() is None:
        raise _LockMissing(project_id)


def _add_lock_row(context: nova_context.RequestContext, project_id: str | None) -> None:
    try:
        with session.writer(context) as conn:
            session.insert_row(conn, _locks, {"project_id": project_id})
    except db_exc.DBDuplicateEntry:
        pass  # made by a concurrent create: as good


def _checked(
    context: nova_context.RequestContext,
    project_id: str | None,
    work: Callable[[sa.Connection], Any],
):
    """Run ``work(conn)`` in a writer transaction holding the project's quota lock."""
    for _attempt in range(2):
        try:
            with session.writer(context) as conn:
                _lock_project(conn, project_id)
                return work(conn)
        except _LockMissing:
            _add_lock_row(context, project_id)
    raise RuntimeError(f"no quota lock row for project {project_id}")  # pragma: no cover


def instance_create_checked(
    context: nova_context.RequestContext,
    project_id: str | None,
    decide: Callable[[dict[str, int], Usage], int],
    values_of: Callable[[int], Mapping[str, Any]],
) -> list[records.Instance]:
    """Create as many instances of ``project_id`` as its quota allows, atomically.

    In one transaction serialized with every other checked create of the
    project: ``decide(own limits, usage)`` returns how many to create (or
    raises, and nothing is written), then instance ``i`` is inserted with
    ``values_of(i)`` (``metadata`` included, as ``instance_create``).
    """

    def work(conn: sa.Connection) -> list[records.Instance]:
        own: dict[str, int] = {}
        usage: Usage = {}
        for resource, value, cores, ram in conn.execute(
            _LIMITS_AND_USAGE, {"of_project": project_id}
        ):
            if resource is None:
                usage = {"instances": int(value), "cores": int(cores), "ram": int(ram)}
            else:
                own[resource] = value
        count = decide(own, usage)
        return [instance_db.instance_create_in(conn, values_of(i)) for i in range(count)]

    return _checked(context, project_id, work)


def key_pair_create_checked(
    context: nova_context.RequestContext,
    project_id: str | None,
    values: Mapping[str, Any],
    decide: Callable[[dict[str, int], int], None],
) -> records.KeyPair:
    """Create a key pair if ``decide(own limits, the user's key pairs)`` does not raise.

    Serialized with the checked creates of the caller's project.

    :raises oslo_db.exception.DBDuplicateEntry: the user has a key pair of that name.
    """

    def work(conn: sa.Connection) -> records.KeyPair:
        own = dict(conn.execute(_OWN_LIMITS, {"of_project": project_id}).all())
        used = conn.execute(_KEY_PAIR_USAGE, {"of_user": values["user_id"]}).scalar_one()
        decide(own, int(used))
        return records.KeyPair(**session.insert_row(conn, _key_pairs, values))

    return _checked(context, project_id, work)
