"""The database reads behind the compute API's server and VIF views.

Each function is one read-only transaction on a Core connection (no ORM
session) running statements built once at import, so a request spends its
time in the database rather than in building and compiling queries:

* a server: its row (with its flavor's public id and, in ERROR, its newest
  fault, joined in), then its metadata and fixed addresses in one statement;
* a page of servers: the same two statements for the whole page;
* the VIFs of a server: one statement that also checks the server is the
  caller's, so "no such server" (404) and "no VIFs" (an empty list) differ.

Rows are named tuples (``InstanceRow``, ``VirtualInterfaceRow``): attribute
access by column name like the ORM models they stand for, at the speed of a
tuple (a view reads some thirty attributes of each server).
"""

from __future__ import annotations

import collections
import dataclasses
from collections.abc import Callable
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from nova import context as nova_context
from nova import exception
from nova.db import models
from nova.db.api import _NEWEST_FIRST
from nova.db.api import _after_marker
from nova.db.api import _instance_criteria
from nova.db.api import _project_scoped
from nova.db.api import _read_connection
from nova.db.api import get_engine
from nova.db.prepared import Prepared
from nova.db.prepared import reading

_instances = models.Instance.__table__
_flavors = models.Flavor.__table__
_faults = models.InstanceFault.__table__
_metadata = models.InstanceMetadata.__table__
_fixed_ips = models.FixedIp.__table__
_networks = models.Network.__table__
_vifs = models.VirtualInterface.__table__


@dataclasses.dataclass(frozen=True)
class InstanceViewData:
    """Instances and what their views show besides their own columns.

    ``instances`` have every column of ``instances`` plus ``flavorid`` (the
    flavor's public id; None without a flavor row) and, for an instance in
    ERROR, its newest fault: ``fault_code``, ``fault_message``,
    ``fault_details``, ``fault_created_at`` (None otherwise).
    """

    instances: list[InstanceRow]
    #: ``{instance id: {key: value}}`` in the order the items were written.
    metadata: dict[int, dict[str, str]]
    #: ``{instance id: [(network label, fixed IP, MAC), ...]}`` in VIF order.
    addresses: dict[int, list[tuple[str, str, str]]]


# --- servers ---------------------------------------------------------------------------

# Only the newest live fault of an instance in ERROR is shown.
_other_faults = _faults.alias("other_faults")
_NEWEST_FAULT = sa.and_(
    _instances.c.vm_state == "error",
    _faults.c.instance_id == _instances.c.id,
    _faults.c.id
    == sa.select(sa.func.max(_other_faults.c.id))
    .where(_other_faults.c.instance_id == _instances.c.id, _other_faults.c.deleted == 0)
    .correlate(_instances)
    .scalar_subquery(),
)

# Servers deleted or not (a ``changes-since`` listing shows deletions too).
_ANY_SERVERS = (
    sa.select(
        _instances,
        _flavors.c.flavorid,
        _faults.c.code.label("fault_code"),
        _faults.c.message.label("fault_message"),
        _faults.c.details.label("fault_details"),
        _faults.c.created_at.label("fault_created_at"),
    )
    # Deleted flavors too: an old instance keeps showing its flavor.
    .select_from(
        _instances.outerjoin(_flavors, _flavors.c.id == _instances.c.flavor_id).outerjoin(
            _faults, _NEWEST_FAULT
        )
    )
)
_SERVERS = _ANY_SERVERS.where(_instances.c.deleted == 0)
_SERVER_BY_UUID = _project_scoped(_SERVERS.where(_instances.c.uuid == sa.bindparam("uuid")))
InstanceRow = collections.namedtuple("InstanceRow", _SERVERS.selected_columns.keys())


def _children(match: Callable[[sa.Column], sa.ColumnElement[bool]]) -> sa.CompoundSelect:
    """Return the metadata items and fixed addresses of the instances ``match`` picks.

    One statement, rows ``(instance_id, part, seq, subseq, name, value, mac)``:
    metadata items (``part`` 0: key, value) in the order they were written,
    then fixed addresses (``part`` 1: network label, address, VIF MAC) in
    VIF order.
    """
    metadata = sa.select(
        _metadata.c.instance_id,
        sa.literal_column("0", sa.Integer).label("part"),
        _metadata.c.id.label("seq"),
        sa.literal_column("0", sa.Integer).label("subseq"),
        _metadata.c.key.label("name"),
        _metadata.c.value,
        sa.null().label("mac"),
    ).where(match(_metadata.c.instance_id), _metadata.c.deleted == 0)
    addresses = (
        sa.select(
            _fixed_ips.c.instance_id,
            sa.literal_column("1", sa.Integer),
            _vifs.c.id,
            _fixed_ips.c.id,
            _networks.c.label,
            _fixed_ips.c.address,
            _vifs.c.address,
        )
        .join(_networks, _networks.c.id == _fixed_ips.c.network_id)
        .join(_vifs, _vifs.c.id == _fixed_ips.c.virtual_interface_id)
        .where(match(_fixed_ips.c.instance_id), _fixed_ips.c.deleted == 0, _vifs.c.deleted == 0)
    )
    return sa.union_all(metadata, addresses).order_by("part", "seq", "subseq")


_CHILDREN_OF_ONE = Prepared(_children(lambda column: column == sa.bindparam("instance_id")))
_CHILDREN_OF_MANY = _children(
    lambda column: column.in_(sa.bindparam("instance_ids", expanding=True))
)


# The commonest listing, one project's newest servers without filters or
# marker, prepared: the page, then the children of that same page.
_PAGE_CRITERIA = (_instances.c.deleted == 0, _instances.c.project_id == sa.bindparam("project_id"))
_PROJECT_PAGE = Prepared(
    _SERVERS.where(*_PAGE_CRITERIA).order_by(*_NEWEST_FIRST).limit(sa.bindparam("limit"))
)
# The page's ids as a derived table: MySQL refuses LIMIT right inside IN (...).
_PAGE_IDS = (
    sa.select(_instances.c.id)
    .where(*_PAGE_CRITERIA)
    .order_by(*_NEWEST_FIRST)
    .limit(sa.bindparam("limit"))
    .subquery("page")
)
_CHILDREN_OF_PROJECT_PAGE = Prepared(
    _children(lambda column: column.in_(sa.select(_PAGE_IDS.c.id)))
)


def _plain_project_page(
    context: nova_context.RequestContext, filters: Mapping[str, Any], marker, limit
) -> str | None:
    """Return the project whose plain page is asked for (see ``_PROJECT_PAGE``), or None."""
    if marker is not None or limit is None or set(filters) - {"project_id"}:
        return None
    return context.project_id if not context.is_admin else filters.get("project_id")


def _view_data(instances: list[sa.Row], children) -> InstanceViewData:
    """Return ``instances`` with their metadata and addresses from the ``_children`` rows."""
    metadata: dict[int, dict[str, str]] = {}
    addresses: dict[int, list[tuple[str, str, str]]] = {}
    for instance_id, part, _seq, _subseq, name, value, mac in children:
        if part == 0:
            metadata.setdefault(instance_id, {})[name] = value
        else:
            addresses.setdefault(instance_id, []).append((name or "", value, mac))
    return InstanceViewData(instances, metadata, addresses)


def instance_get_for_view(
    context: nova_context.RequestContext, instance_uuid: str
) -> InstanceViewData:
    """Return the live instance ``instance_uuid`` of the context's project and its view data.

    :raises nova.exception.InstanceNotFound: no such instance, or it belongs
        to another project.
    """
    with reading(get_engine()) as reader:
        found = _SERVER_BY_UUID[context.is_admin].rows(
            reader, {"uuid": instance_uuid, "project_id": context.project_id}
        )
        if not found:
            raise exception.InstanceNotFound(instance_id=instance_uuid)
        instance = InstanceRow._make(found[0])
        children = _CHILDREN_OF_ONE.rows(reader, {"instance_id": instance.id})
    return _view_data([instance], children)


def instance_get_all_for_view(
    context: nova_context.RequestContext,
    filters: Mapping[str, Any] | None = None,
    limit: int | None = None,
    marker: str | None = None,
    detail: bool = True,
) -> InstanceViewData:
    """Return live instances as ``instance_get_all`` does, with their view data.

    With ``filters["changes_since"]``, the instances changed since then,
    deleted ones too (see ``nova.db.api._instance_criteria``).

    :param detail: read the metadata and addresses too (else they are empty).
    :raises nova.exception.MarkerNotFound: ``marker`` is not a visible instance.
    """
    filters = filters or {}
    project_id = _plain_project_page(context, filters, marker, limit)
    if project_id is not None:
        params = {"project_id": project_id, "limit": limit}
        with reading(get_engine()) as reader:
            instances = [InstanceRow._make(row) for row in _PROJECT_PAGE.rows(reader, params)]
            children = []
            if detail and instances:
                children = _CHILDREN_OF_PROJECT_PAGE.rows(reader, params)
        return _view_data(instances, children)
    # _instance_criteria picks live instances unless changes_since is given.
    query = _ANY_SERVERS.where(*_instance_criteria(context, filters))
    with _read_connection() as connection:
        if marker is not None:
            changes = filters.get("changes_since") is not None
            query = query.where(_after_marker(connection, context, marker, include_deleted=changes))
        # fetchall in one driver call, not a row at a time.
        rows = connection.execute(query.order_by(*_NEWEST_FIRST).limit(limit)).all()
        instances = [InstanceRow._make(row) for row in rows]
        children = []
        if detail and instances:
            children = connection.execute(
                _CHILDREN_OF_MANY, {"instance_ids": [instance.id for instance in instances]}
            ).all()
        return _view_data(instances, children)


# --- virtual interfaces ----------------------------------------------------------------


def _vifs_of_instance(*vif_criteria: sa.ColumnElement[bool]) -> dict[bool, sa.Select]:
    """Return the statement reading the live VIFs of instance ``:uuid`` that fit ``vif_criteria``.

    A LEFT JOIN from the instance: no row means no such instance (in the
    project), one row of NULLs means no such VIF. ``network_uuid`` is the
    VIF's network, a legacy Nova network's or the external one's.
    """
    statement = (
        sa.select(
            _vifs.c.uuid,
            _vifs.c.address,
            sa.func.coalesce(_networks.c.uuid, _vifs.c.network_uuid).label("network_uuid"),
        )
        .select_from(
            _instances.outerjoin(
                _vifs,
                sa.and_(
                    _vifs.c.instance_id == _instances.c.id, _vifs.c.deleted == 0, *vif_criteria
                ),
            )
            # Deleted networks too: an old VIF keeps showing its network.
            .outerjoin(_networks, _networks.c.id == _vifs.c.network_id)
        )
        .where(_instances.c.uuid == sa.bindparam("uuid"), _instances.c.deleted == 0)
        .order_by(_vifs.c.id)
    )
    return _project_scoped(statement)


_VIFS_OF_INSTANCE = _vifs_of_instance()
_VIF_OF_INSTANCE = _vifs_of_instance(_vifs.c.uuid == sa.bindparam("vif_uuid"))
VirtualInterfaceRow = collections.namedtuple(
    "VirtualInterfaceRow", _VIFS_OF_INSTANCE[True].statement.selected_columns.keys()
)


def virtual_interface_get_all_for_view(
    context: nova_context.RequestContext, instance_uuid: str
) -> list[VirtualInterfaceRow]:
    """Return the live VIFs (``uuid``, ``address``, ``network_uuid``) of an instance in order.

    :raises nova.exception.InstanceNotFound: no such instance, or it belongs
        to another project.
    """
    rows = _VIFS_OF_INSTANCE[context.is_admin].run(
        get_engine(), {"uuid": instance_uuid, "project_id": context.project_id}
    )
    if not rows:
        raise exception.InstanceNotFound(instance_id=instance_uuid)
    # A row of NULLs: the instance has no VIFs.
    return [VirtualInterfaceRow._make(row) for row in rows if row[0] is not None]


def virtual_interface_get_for_view(
    context: nova_context.RequestContext, instance_uuid: str, vif_uuid: str
) -> VirtualInterfaceRow:
    """Return the live VIF ``vif_uuid`` (``uuid``, ``address``, ``network_uuid``) of an instance.

    :raises nova.exception.InstanceNotFound: no such instance, or it belongs
        to another project.
    :raises nova.exception.VirtualInterfaceNotFound: not a VIF of that instance.
    """
    rows = _VIF_OF_INSTANCE[context.is_admin].run(
        get_engine(),
        {"uuid": instance_uuid, "vif_uuid": vif_uuid, "project_id": context.project_id},
    )
    if not rows:
        raise exception.InstanceNotFound(instance_id=instance_uuid)
    if rows[0][0] is None:
        raise exception.VirtualInterfaceNotFound(vif_id=vif_uuid)
    return VirtualInterfaceRow._make(rows[0])
