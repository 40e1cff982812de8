"""The data API of virtual interfaces (an instance's NICs, whichever network backend made them)."""

from __future__ import annotations

import logging
import secrets
import uuid as uuidlib
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from oslo_db import exception as db_exc

from nova import context as nova_context
from nova import exception
from nova.db import models
from nova.db import records
from nova.db import session

LOG = logging.getLogger(__name__)

#: MAC prefix of generated VIF addresses (locally administered, as in Nova).
MAC_PREFIX = (0xFA, 0x16, 0x3E)
#: How many random MAC addresses to try before giving up.
MAC_ATTEMPTS = 10

_vifs = models.Base.metadata.tables["virtual_interfaces"]
_instances = models.Base.metadata.tables["instances"]


def generate_mac_address() -> str:
    """Return a random MAC address with Nova's ``fa:16:3e`` prefix."""
    octets = (*MAC_PREFIX, *secrets.token_bytes(3))
    return ":".join(f"{octet:02x}" for octet in octets)


def _live_vif_with(conn: sa.Connection, column: sa.Column, value: str) -> bool:
    statement = sa.select(_vifs.c.id).where(column == value, _vifs.c.deleted == 0)
    return conn.scalar(statement) is not None


def virtual_interface_create(
    context: nova_context.RequestContext, values: Mapping[str, Any]
) -> records.VirtualInterface:
    """Create a VIF for ``values["instance_id"]`` (see ``virtual_interfaces_create``)."""
    return virtual_interfaces_create(context, [values])[0]


def virtual_interfaces_create(
    context: nova_context.RequestContext, values_list: Sequence[Mapping[str, Any]]
) -> list[records.VirtualInterface]:
    """Create a VIF per item of ``values_list``, all in one transaction (all or none).

    ``uuid`` and ``address`` are generated when not given; generated MACs
    that collide with a live VIF's are replaced, up to ``MAC_ATTEMPTS``
    times.

    :raises nova.exception.VirtualInterfaceMacAddressConflict: a given
        ``address`` belongs to a live VIF.
    :raises nova.exception.PortInUse: a ``port_id`` is bound to a live VIF.
    :raises nova.exception.VirtualInterfaceCreateFailed: no free MAC found.
    :raises oslo_db.exception.DBReferenceError: no such instance.
    """
    rows = [dict(values) for values in values_list]
    generated = {index for index, row in enumerate(rows) if "address" not in row}
    for row in rows:
        row.setdefault("uuid", str(uuidlib.uuid4()))
    for attempt in range(1, MAC_ATTEMPTS + 1):
        _generate_macs(rows, generated)
        try:
            with session.writer(context) as conn:
                created = [session.insert_row(conn, _vifs, row) for row in rows]
            return [records.VirtualInterface(**row) for row in created]
        except db_exc.DBDuplicateEntry:
            with session.reader(context) as conn:
                for row in rows:
                    port_id = row.get("port_id")
                    if port_id and _live_vif_with(conn, _vifs.c.port_id, port_id):
                        raise exception.PortInUse(port_id=port_id) from None
                taken = [
                    index
                    for index, row in enumerate(rows)
                    if _live_vif_with(conn, _vifs.c.address, row["address"])
                ]
            if not taken:
                raise
            for index in set(taken) - generated:
                raise exception.VirtualInterfaceMacAddressConflict(
                    address=rows[index]["address"]
                ) from None
            LOG.info(
                "MAC address %s is taken (attempt %d of %d); trying another",
                ", ".join(rows[index]["address"] for index in taken),
                attempt,
                MAC_ATTEMPTS,
            )
    raise exception.VirtualInterfaceCreateFailed(
        instance_id=rows[0].get("instance_id") if rows else None, attempts=MAC_ATTEMPTS
    )


def _generate_macs(rows: list[dict[str, Any]], generated: set[int]) -> None:
    """Give the rows at the ``generated`` indexes new random MACs, no two rows the same."""
    used = {row["address"] for index, row in enumerate(rows) if index not in generated}
    for index in sorted(generated):
        address = generate_mac_address()
        while address in used:
            address = generate_mac_address()
        rows[index]["address"] = address
        used.add(address)


# Live VIFs of live instances, scoped to the context's project.
_LIVE_VIFS = session.project_scoped(
    sa.select(_vifs)
    .join(_instances, _instances.c.id == _vifs.c.instance_id)
    .where(_vifs.c.deleted == 0, _instances.c.deleted == 0),
    _instances.c.project_id,
)
_VIF_BY_UUID = {
    is_admin: statement.where(_vifs.c.uuid == sa.bindparam("vif_uuid"))
    for is_admin, statement in _LIVE_VIFS.items()
}
_VIFS_OF_INSTANCE = {
    is_admin: statement.where(_vifs.c.instance_id == sa.bindparam("instance_id")).order_by(
        _vifs.c.id
    )
    for is_admin, statement in _LIVE_VIFS.items()
}
_VIFS_OF_INSTANCES = {
    is_admin: statement.where(
        _vifs.c.instance_id.in_(sa.bindparam("instance_ids", expanding=True))
    ).order_by(_vifs.c.instance_id, _vifs.c.id)
    for is_admin, statement in _LIVE_VIFS.items()
}


def virtual_interface_get_by_uuid(
    context: nova_context.RequestContext, vif_uuid: str
) -> records.VirtualInterface:
    """Return the live VIF ``vif_uuid`` of an instance of the context's project.

    :raises nova.exception.VirtualInterfaceNotFound: no such VIF, or it
        belongs to another project's instance.
    """
    with session.reader(context, single_statement=True) as conn:
        row = session.one_or_raise(
            conn,
            _VIF_BY_UUID[context.is_admin],
            exception.VirtualInterfaceNotFound(vif_id=vif_uuid),
            session.scope_params(context, vif_uuid=vif_uuid),
        )
    return records.VirtualInterface._make(row)


def virtual_interface_get_by_instance(
    context: nova_context.RequestContext, instance_id: int
) -> list[records.VirtualInterface]:
    """Return the live VIFs of instance ``instance_id`` in creation order."""
    params = session.scope_params(context, instance_id=instance_id)
    with session.reader(context, single_statement=True) as conn:
        rows = conn.execute(_VIFS_OF_INSTANCE[context.is_admin], params).all()
    return [records.VirtualInterface._make(row) for row in rows]


def virtual_interfaces_get_by_instances(
    context: nova_context.RequestContext, instance_ids: list[int]
) -> list[records.VirtualInterface]:
    """Return the live VIFs of the instances ``instance_ids`` (one statement), each's in order."""
    if not instance_ids:
        return []
    params = session.scope_params(context, instance_ids=instance_ids)
    with session.reader(context, single_statement=True) as conn:
        rows = conn.execute(_VIFS_OF_INSTANCES[context.is_admin], params).all()
    return [records.VirtualInterface._make(row) for row in rows]


def virtual_interface_delete_by_instance(
    context: nova_context.RequestContext, instance_id: int
) -> int:
    """Soft-delete every live VIF of instance ``instance_id``; return how many."""
    statement = (
        sa.update(_vifs)
        .where(_vifs.c.instance_id == instance_id, _vifs.c.deleted == 0)
        .values(session.soft_delete_values(_vifs))
    )
    with session.writer(context) as conn:
        return conn.execute(statement).rowcount


def virtual_interface_delete(context: nova_context.RequestContext, vif_id: int) -> int:
    """Soft-delete the live VIF whose internal id is ``vif_id``; return 1, or 0 if gone."""
    statement = (
        sa.update(_vifs)
        .where(_vifs.c.id == vif_id, _vifs.c.deleted == 0)
        .values(session.soft_delete_values(_vifs))
    )
    with session.writer(context) as conn:
        return conn.execute(statement).rowcount
