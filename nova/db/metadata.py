"""The data API of server metadata: read, merge, replace and delete items.

Each write is one transaction that first locks the instance's row (``FOR
UPDATE``; SQLite's writer holds the database), so the limit on the number
of items holds against concurrent writes and a server being deleted or
built meanwhile cannot have its metadata changed.
"""

from __future__ import annotations

from collections.abc import Collection
from collections.abc import Mapping

import sqlalchemy as sa

from nova import context as nova_context
from nova import exception
from nova.db import models
from nova.db import session

_instances = models.Base.metadata.tables["instances"]
_metadata = models.Base.metadata.tables["instance_metadata"]

_INSTANCE = session.project_scoped(
    sa.select(_instances.c.id, _instances.c.vm_state, _instances.c.task_state).where(
        _instances.c.uuid == sa.bindparam("uuid"), _instances.c.deleted == 0
    ),
    _instances.c.project_id,
)
_LOCKED_INSTANCE = {admin: statement.with_for_update() for admin, statement in _INSTANCE.items()}

_ITEMS = (
    sa.select(_metadata.c.id, _metadata.c.key, _metadata.c.value)
    .where(_metadata.c.instance_id == sa.bindparam("instance_id"), _metadata.c.deleted == 0)
    .order_by(_metadata.c.id)
)
_ITEMS_OF_SERVER = session.project_scoped(
    sa.select(_instances.c.id, _metadata.c.key, _metadata.c.value)
    .select_from(
        _instances.outerjoin(
            _metadata,
            sa.and_(_metadata.c.instance_id == _instances.c.id, _metadata.c.deleted == 0),
        )
    )
    .where(_instances.c.uuid == sa.bindparam("uuid"), _instances.c.deleted == 0)
    .order_by(_metadata.c.id),
    _instances.c.project_id,
)
_UPDATE_VALUE = (
    sa.update(_metadata)
    .where(_metadata.c.id == sa.bindparam("item_id"))
    .values(value=sa.bindparam("new_value"), updated_at=sa.bindparam("now"))
)
_DELETE_ITEMS = (
    sa.update(_metadata)
    .where(_metadata.c.id.in_(sa.bindparam("item_ids", expanding=True)))
    .values(deleted=_metadata.c.id, deleted_at=sa.bindparam("now"))
)


def metadata_get(context: nova_context.RequestContext, instance_uuid: str) -> dict[str, str]:
    """Return the live metadata of a server, items in the order they were written.

    :raises nova.exception.InstanceNotFound: no such server (in the project).
    """
    params = session.scope_params(context, uuid=instance_uuid)
    with session.reader(context, single_statement=True) as conn:
        rows = conn.execute(_ITEMS_OF_SERVER[context.is_admin], params).all()
    if not rows:
        raise exception.InstanceNotFound(instance_id=instance_uuid)
    return {key: value for _id, key, value in rows if key is not None}


def _locked_instance(
    conn: sa.Connection,
    context: nova_context.RequestContext,
    instance_uuid: str,
    vm_states: Collection[str],
) -> int:
    """Lock a server's row; return its id if its state allows metadata changes."""
    params = session.scope_params(context, uuid=instance_uuid)
    row = conn.execute(_LOCKED_INSTANCE[context.is_admin], params).first()
    if row is None:
        raise exception.InstanceNotFound(instance_id=instance_uuid)
    instance_id, vm_state, task_state = row
    if vm_state not in vm_states or task_state is not None:
        raise exception.InstanceInvalidState(
            instance_id=instance_uuid,
            state=vm_state,
            task_state=task_state,
            expected=f"vm_state {', '.join(sorted(vm_states))} and no task",
        )
    return instance_id


def metadata_update(
    context: nova_context.RequestContext,
    instance_uuid: str,
    metadata: Mapping[str, str],
    replace: bool,
    max_items: int | None,
    vm_states: Collection[str],
) -> dict[str, str]:
    """Merge ``metadata`` into a server's (``replace``: make it the server's); return the result.

    :param max_items: the most items the result may have (None: no limit).
    :param vm_states: the states the server must be in (with no task).
    :raises nova.exception.InstanceNotFound: no such server (in the project).
    :raises nova.exception.InstanceInvalidState: not in one of ``vm_states``, or busy.
    :raises nova.exception.MetadataLimitExceeded: the result has too many items.
    """
    now = models.utcnow()
    with session.writer(context) as conn:
        instance_id = _locked_instance(conn, context, instance_uuid, vm_states)
        current = {
            key: (item_id, value)
            for item_id, key, value in conn.execute(_ITEMS, {"instance_id": instance_id})
        }
        if replace:
            result = dict(metadata)
        else:
            result = {key: value for key, (_id, value) in current.items()}
            result.update(metadata)
        if max_items is not None and len(result) > max_items:
            raise exception.MetadataLimitExceeded(allowed=max_items)
        gone = [item_id for key, (item_id, _value) in current.items() if key not in result]
        if gone:
            conn.execute(_DELETE_ITEMS, {"item_ids": gone, "now": now})
        changed = [
            {"item_id": current[key][0], "new_value": value, "now": now}
            for key, value in metadata.items()
            if key in current and current[key][1] != value
        ]
        if changed:
            conn.execute(_UPDATE_VALUE, changed)
        new = [
            {"instance_id": instance_id, "key": key, "value": value, "created_at": now}
            for key, value in metadata.items()
            if key not in current
        ]
        if new:
            conn.execute(sa.insert(_metadata), new)
    return result


def metadata_delete(
    context: nova_context.RequestContext,
    instance_uuid: str,
    key: str,
    vm_states: Collection[str],
) -> None:
    """Delete one metadata item of a server.

    :raises nova.exception.InstanceNotFound: no such server (in the project).
    :raises nova.exception.MetadataItemNotFound: it has no such item.
    :raises nova.exception.InstanceInvalidState: not in one of ``vm_states``, or busy.
    """
    with session.writer(context) as conn:
        instance_id = _locked_instance(conn, context, instance_uuid, vm_states)
        ids = [
            item_id
            for item_id, item_key, _value in conn.execute(_ITEMS, {"instance_id": instance_id})
            if item_key == key
        ]
        if not ids:
            raise exception.MetadataItemNotFound()
        conn.execute(_DELETE_ITEMS, {"item_ids": ids, "now": models.utcnow()})
