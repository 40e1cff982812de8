"""The data API of key pairs: a user's public keys, by name (created in ``nova.db.quotas``)."""

from __future__ import annotations

import sqlalchemy as sa

from nova import context as nova_context
from nova import exception
from nova.db import models
from nova.db import records
from nova.db import session

_key_pairs = models.Base.metadata.tables["key_pairs"]

_OF_USER = (
    sa.select(_key_pairs)
    .where(_key_pairs.c.user_id == sa.bindparam("of_user"), _key_pairs.c.deleted == 0)
    .order_by(_key_pairs.c.name)
)
_BY_NAME = sa.select(_key_pairs).where(
    _key_pairs.c.user_id == sa.bindparam("of_user"),
    _key_pairs.c.name == sa.bindparam("named"),
    _key_pairs.c.deleted == 0,
)
_DESTROY = (
    sa.update(_key_pairs)
    .where(
        _key_pairs.c.user_id == sa.bindparam("of_user"),
        _key_pairs.c.name == sa.bindparam("named"),
        _key_pairs.c.deleted == 0,
    )
    .values(deleted=_key_pairs.c.id, deleted_at=sa.bindparam("deleted_now"))
)


def key_pair_get_all(
    context: nova_context.RequestContext, user_id: str | None
) -> list[records.KeyPair]:
    """Return the live key pairs of ``user_id``, by name."""
    with session.reader(context, single_statement=True) as conn:
        return [records.KeyPair._make(row) for row in conn.execute(_OF_USER, {"of_user": user_id})]


def key_pair_get(
    context: nova_context.RequestContext, user_id: str | None, name: str
) -> records.KeyPair:
    """Return the live key pair ``name`` of ``user_id``.

    :raises nova.exception.KeypairNotFound: the user has none of that name.
    """
    with session.reader(context, single_statement=True) as conn:
        row = conn.execute(_BY_NAME, {"of_user": user_id, "named": name}).first()
    if row is None:
        raise exception.KeypairNotFound(name=name, user_id=user_id)
    return records.KeyPair._make(row)


def key_pair_destroy(context: nova_context.RequestContext, user_id: str | None, name: str) -> None:
    """Delete the key pair ``name`` of ``user_id``.

    :raises nova.exception.KeypairNotFound: the user has none of that name.
    """
    params = {"of_user": user_id, "named": name, "deleted_now": models.utcnow()}
    with session.writer(context) as conn:
        deleted = conn.execute(_DESTROY, params).rowcount
    if not deleted:
        raise exception.KeypairNotFound(name=name, user_id=user_id)
