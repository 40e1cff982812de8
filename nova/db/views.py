"""The data API behind the compute API's server and VIF views.

Each function is one read-only transaction running statements built once at
import, so a request spends its time in the database rather than in
building queries:

* a server: its row (with its flavor's public id and, in ERROR, its newest
  fault, joined in), then its metadata and fixed addresses in one statement;
* a page of servers: the same two statements for the whole page;
* the VIFs of a server: one statement that also checks the server is the
  caller's, so "no such server" (404) and "no VIFs" (an empty list) differ.

Rows are ``nova.db.records.InstanceView`` and ``VirtualInterfaceView``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import util as sql_util

from nova import context as nova_context
from nova import exception
from nova.db import instances
from nova.db import models
from nova.db import records
from nova.db import session

_instances = models.Base.metadata.tables["instances"]
_flavors = models.Base.metadata.tables["flavors"]
_faults = models.Base.metadata.tables["instance_faults"]
_metadata = models.Base.metadata.tables["instance_metadata"]
_fixed_ips = models.Base.metadata.tables["fixed_ips"]
_networks = models.Base.metadata.tables["networks"]
_vifs = models.Base.metadata.tables["virtual_interfaces"]


@dataclasses.dataclass(frozen=True)
class InstanceViewData:
    """Instances and what their views show besides their own columns."""

    instances: list[records.InstanceView]
    #: ``{instance id: {key: value}}`` in the order the items were written.
    metadata: dict[int, dict[str, str]]
    #: ``{instance id: [(network label, fixed IP, MAC), ...]}`` in VIF order.
    addresses: dict[int, list[tuple[str, str, str]]]


# --- servers ---------------------------------------------------------------------------


def _with_flavor_and_fault(rows, alias: str) -> sa.Select:
    """Return ``rows`` (``instances``, or a subquery of its rows) with their view's joins.

    The flavor's id (deleted flavors too: an old instance keeps showing its
    flavor) and, of an instance in ERROR, its newest live fault.
    """
    other_faults = _faults.alias(alias)
    newest_fault = sa.and_(
        rows.c.vm_state == "error",
        _faults.c.instance_id == rows.c.id,
        _faults.c.id
        == sa.select(sa.func.max(other_faults.c.id))
        .where(other_faults.c.instance_id == rows.c.id, other_faults.c.deleted == 0)
        .correlate(rows)
        .scalar_subquery(),
    )
    return sa.select(
        rows,
        _flavors.c.flavorid,
        _faults.c.code.label("fault_code"),
        _faults.c.message.label("fault_message"),
        _faults.c.details.label("fault_details"),
        _faults.c.created_at.label("fault_created_at"),
    ).select_from(
        rows.outerjoin(_flavors, _flavors.c.id == rows.c.flavor_id).outerjoin(_faults, newest_fault)
    )


#: Servers deleted or not (a ``changes-since`` listing shows deletions too);
#: its columns are ``records.InstanceView``'s.
ANY_SERVERS = _with_flavor_and_fault(_instances, "other_faults")


def _child_selects(
    match: Callable[[sa.Column], sa.ColumnElement[bool]],
    leading: Sequence[sa.ColumnElement[Any]] = (),
) -> list[sa.Select]:
    """Return the metadata items and fixed addresses of the instances ``match`` picks.

    Two statements of rows ``(*leading, instance_id, part, seq, subseq,
    name, value, mac)``: metadata items (``part`` 0: key, value; ``seq`` the
    order they were written in), fixed addresses (``part`` 1: network
    label, address, VIF MAC; ``seq`` and ``subseq`` the VIF order).
    """
    metadata = sa.select(
        *leading,
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
            *leading,
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
    return [metadata, addresses]


def _children(match: Callable[[sa.Column], sa.ColumnElement[bool]]) -> sa.CompoundSelect:
    """Return ``_child_selects(match)`` as one statement, metadata first, each in its order."""
    return sa.union_all(*_child_selects(match)).order_by("part", "seq", "subseq")


def _server_and_children(is_admin: bool) -> sa.CompoundSelect:
    """Return the statement reading live instance ``:uuid``, its metadata and addresses.

    One statement, so one snapshot without a transaction: the instance's row
    first (its columns ``ANY_SERVERS``'s, then ``child_part`` -1 and NULLs),
    then the rows of ``_child_selects`` after as many NULLs. Scoped to
    ``:project_id`` unless ``is_admin``.
    """
    scope = [_instances.c.uuid == sa.bindparam("uuid"), _instances.c.deleted == 0]
    if not is_admin:
        scope.append(_instances.c.project_id == sa.bindparam("project_id"))
    child_columns = _child_selects(lambda column: sa.true())[0].selected_columns
    server = ANY_SERVERS.where(*scope).add_columns(
        *(
            sa.type_coerce(
                sa.literal_column("-1") if column.key == "part" else sa.null(), column.type
            ).label(f"child_{column.key}")
            for column in child_columns
        )
    )
    instance_id = sa.select(_instances.c.id).where(*scope).scalar_subquery()
    padding = [sa.null().label(f"server_{column.key}") for column in ANY_SERVERS.selected_columns]
    children = _child_selects(lambda column: column == instance_id, padding)
    return sa.union_all(server, *children).order_by("child_part", "child_seq", "child_subseq")


_SERVER_AND_CHILDREN = {is_admin: _server_and_children(is_admin) for is_admin in (True, False)}
_SERVER_COLUMNS = len(records.InstanceView._fields)


_CHILDREN_OF_MANY = _children(
    lambda column: column.in_(sa.bindparam("instance_ids", expanding=True))
)


def _page_first(page_of_instances: sa.Select, order: Sequence[sa.ColumnElement[Any]]) -> sa.Select:
    """Return the view rows (``ANY_SERVERS``'s columns) of a page of instances, in ``order``.

    The page (``page_of_instances``: ``instances`` rows, filtered, ordered and
    limited) is chosen first, on ``instances`` alone, where an index in the
    listing's order serves it; the flavor and the newest fault are joined to
    its rows only. Joined before the LIMIT, PostgreSQL looked up the newest
    fault of every instance of the project whenever it chose to sort rather
    than walk the index (29 ms for 1,000 instances, against 3 ms).
    """
    page = page_of_instances.subquery("page")
    return _with_flavor_and_fault(page, "page_other_faults").order_by(
        *(sql_util.ClauseAdapter(page).traverse(term) for term in order)
    )


# The commonest listing, one project's newest servers without other filters
# or a marker, built once (a statement built per call pays for its cache key).
_PROJECT_PAGE = _page_first(
    sa.select(_instances)
    .where(_instances.c.project_id == sa.bindparam("project_id"), _instances.c.deleted == 0)
    .order_by(*instances.NEWEST_FIRST)
    .limit(sa.bindparam("limit")),
    instances.NEWEST_FIRST,
)


def _plain_project_page(
    context: nova_context.RequestContext,
    filters: Mapping[str, Any],
    marker: str | None,
    limit: int | None,
) -> str | None:
    """Return the project whose plain page is asked for (see ``_PROJECT_PAGE``), or None."""
    if marker is not None or limit is None or set(filters) - {"project_id"}:
        return None
    return context.project_id if not context.is_admin else filters.get("project_id")


def _view_data(
    instances: list[records.InstanceView], children: Sequence[Sequence[Any]]
) -> InstanceViewData:
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
    params = session.scope_params(context, uuid=instance_uuid)
    with session.reader(context, single_statement=True) as conn:
        rows = conn.execute(_SERVER_AND_CHILDREN[context.is_admin], params).all()
    if not rows:
        raise exception.InstanceNotFound(instance_id=instance_uuid)
    instance = records.InstanceView._make(rows[0][:_SERVER_COLUMNS])
    return _view_data([instance], [row[_SERVER_COLUMNS:] for row in rows[1:]])


def instance_get_all_for_view(
    context: nova_context.RequestContext,
    filters: Mapping[str, Any] | None = None,
    limit: int | None = None,
    marker: str | None = None,
    detail: bool = True,
    sort: Sequence[tuple[str, str]] = instances.DEFAULT_SORT,
) -> InstanceViewData:
    """Return live instances as ``instance_get_all`` does, with their view data.

    With ``filters["changes_since"]``, the instances changed since then,
    deleted ones too (see ``nova.db.instances.instance_criteria``).

    :param detail: read the metadata and addresses too (else they are empty).
    :param sort: ``(column, "asc"|"desc")`` pairs, the last ones making the order total.
    :raises nova.exception.MarkerNotFound: ``marker`` is not a visible instance.
    """
    filters = filters or {}
    sort = tuple(sort)
    project_id = _plain_project_page(context, filters, marker, limit)
    with session.reader(context) as conn:
        if project_id is not None and sort == instances.DEFAULT_SORT:
            statement: sa.Select = _PROJECT_PAGE
            params: dict[str, Any] = {"project_id": project_id, "limit": limit}
        else:
            # instance_criteria picks live instances unless changes_since is given.
            page = sa.select(_instances).where(*instances.instance_criteria(context, filters))
            if marker is not None:
                deleted = filters.get("changes_since") is not None or bool(filters.get("deleted"))
                page = page.where(
                    instances.after_marker(
                        conn, context, marker, include_deleted=deleted, sort=sort
                    )
                )
            order = instances.sort_order(sort)
            statement = _page_first(page.order_by(*order).limit(limit), order)
            params = {}
        rows = conn.execute(statement, params).all()
        found = [records.InstanceView._make(row) for row in rows]
        children: Sequence[Sequence[Any]] = []
        if detail and found:
            children = conn.execute(
                _CHILDREN_OF_MANY, {"instance_ids": [instance.id for instance in found]}
            ).all()
    return _view_data(found, children)


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
    return session.project_scoped(statement, _instances.c.project_id)


#: The statements of the VIF views; their columns are ``records.VirtualInterfaceView``'s.
VIFS_OF_INSTANCE = _vifs_of_instance()
_VIF_OF_INSTANCE = _vifs_of_instance(_vifs.c.uuid == sa.bindparam("vif_uuid"))


def virtual_interface_get_all_for_view(
    context: nova_context.RequestContext, instance_uuid: str
) -> list[records.VirtualInterfaceView]:
    """Return the live VIFs (``uuid``, ``address``, ``network_uuid``) of an instance in order.

    :raises nova.exception.InstanceNotFound: no such instance, or it belongs
        to another project.
    """
    params = session.scope_params(context, uuid=instance_uuid)
    with session.reader(context, single_statement=True) as conn:
        rows = conn.execute(VIFS_OF_INSTANCE[context.is_admin], params).all()
    if not rows:
        raise exception.InstanceNotFound(instance_id=instance_uuid)
    # A row of NULLs: the instance has no VIFs.
    return [records.VirtualInterfaceView._make(row) for row in rows if row[0] is not None]


def virtual_interface_get_for_view(
    context: nova_context.RequestContext, instance_uuid: str, vif_uuid: str
) -> records.VirtualInterfaceView:
    """Return the live VIF ``vif_uuid`` (``uuid``, ``address``, ``network_uuid``) of an instance.

    :raises nova.exception.InstanceNotFound: no such instance, or it belongs
        to another project.
    :raises nova.exception.VirtualInterfaceNotFound: not a VIF of that instance.
    """
    params = session.scope_params(context, uuid=instance_uuid, vif_uuid=vif_uuid)
    with session.reader(context, single_statement=True) as conn:
        row = conn.execute(_VIF_OF_INSTANCE[context.is_admin], params).first()
    if row is None:
        raise exception.InstanceNotFound(instance_id=instance_uuid)
    if row[0] is None:
        raise exception.VirtualInterfaceNotFound(vif_id=vif_uuid)
    return records.VirtualInterfaceView._make(row)
