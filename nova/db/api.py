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


def get_engine() -> sa.Engine:
    """Return the process's engine for ``[database] connection``, creating it once."""
    global _engine, _sessionmaker
    with _lock:
        if _engine is None:
            _engine = db_engine.create_engine(
                CONF.database.connection,
                echo=CONF.database.connection_debug,
                pool_size=CONF.database.max_pool_size,
                pool_timeout=CONF.database.pool_timeout,
                sqlite_busy_timeout=CONF.database.sqlite_busy_timeout,
            )
            _sessionmaker = orm.sessionmaker(_engine, expire_on_commit=False)
        return _engine


def dispose_engine() -> None:
    """Close every pooled connection and forget the engine (tests, reconfiguration)."""
    global _engine, _sessionmaker
    with _lock:
        if _engine is not None:
            _engine.dispose()
        _engine = None
        _sessionmaker = None


@contextlib.contextmanager
def _transaction() -> Iterator[orm.Session]:
    get_engine()
    assert _sessionmaker is not None
    with _sessionmaker.begin() as session:
        yield session


def _soft_delete_values(model: type[models.Base]) -> dict[Any, Any]:
    return {model.deleted: model.id, model.deleted_at: models.utcnow()}


def _one_or_raise(query: sa.Select, not_found: exception.NotFound) -> Any:
    """Return the one row ``query`` finds, or raise ``not_found``."""
    with _transaction() as session:
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
    with _transaction() as session:
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
    return instance_get_by_uuid(context, instance.uuid)


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
            with _transaction() as session:
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
    with _transaction() as session:
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
