"""Quantum's data API: the only module reading and writing its tables.

Every call is scoped to a tenant: another tenant's network or port is "not
found". Each call is one transaction, so a call that fails writes nothing;
inside ``request()`` or ``request_scope()`` the calls join one transaction
instead, committed when the block ends and rolled back if it raises. The API
opens a ``request_scope()`` per request: its transaction begins at the first
call made inside, so a request refused while its body is checked takes no
lock, and a write request holds SQLite's write lock only from its first
statement to its commit. A read-only transaction begins DEFERRED on SQLite
(it reads a snapshot and never waits for a writer).

Transactions are ``servicekit.db``'s ``reading``/``writing`` (the idiom
Nova's data API uses too): SQLAlchemy Core statements built once at import
(SQLAlchemy's compiled cache compiles each once), run through SQLAlchemy's
execution, so the ``sqlalchemy.engine`` logger sees them and errors come
out as oslo.db's exceptions. Networks and ports come back as the named tuples ``Network``
and ``Port``, their fields the tables' columns.
"""

from __future__ import annotations

import contextlib
import datetime
import threading
import uuid
from collections.abc import Iterator
from collections.abc import Mapping
from typing import Any
from typing import NamedTuple

import sqlalchemy as sa
from oslo_db import exception as db_exc

from quantum import exceptions
from quantum import ipam
from quantum.db import models
from servicekit import db as servicekit_db

_networks = models.Base.metadata.tables["networks"]
_ports = models.Base.metadata.tables["ports"]
_network_conf = models.Base.metadata.tables["network_configurations"]
_port_conf = models.Base.metadata.tables["port_configurations"]


class Network(NamedTuple):
    """A row of ``networks``."""

    id: str
    tenant_id: str
    name: str
    plugin: str
    op_status: str
    created_at: datetime.datetime
    subnet_id: str | None = None
    cidr: str | None = None
    gateway_ip: str | None = None
    enable_dhcp: bool | None = None
    dhcp_server: str | None = None

    @property
    def subnet(self) -> ipam.Subnet | None:
        """Return the network's subnet, or None when it has none."""
        if self.cidr is None or self.subnet_id is None:
            return None
        return ipam.Subnet(
            self.subnet_id, self.cidr, self.gateway_ip, bool(self.enable_dhcp), self.dhcp_server
        )


class Port(NamedTuple):
    """A row of ``ports``; ``interface_id`` is its attachment, ``fixed_ip`` its address."""

    id: str
    network_id: str
    state: str
    op_status: str
    interface_id: str | None
    created_at: datetime.datetime
    fixed_ip: str | None = None


#: A network without a subnet: its subnet columns all NULL.
_NO_SUBNET = dict.fromkeys(("subnet_id", "cidr", "gateway_ip", "enable_dhcp", "dhcp_server"))


_NETWORK = sa.select(_networks).where(_networks.c.id == sa.bindparam("net_id"))
# A port create reads its network under a shared lock, a subnet change under
# an exclusive one: a subnet does not change under a fixed IP being allocated.
_NETWORK_SHARED = _NETWORK.with_for_update(read=True)
_NETWORK_LOCKED = _NETWORK.with_for_update()
_SET_SUBNET = (
    sa.update(_networks)
    .where(_networks.c.id == sa.bindparam("net_id"))
    .values({name: sa.bindparam(f"new_{name}") for name in _NO_SUBNET})
)
# The fixed IPs the network's ports hold.
_FIXED_IPS = sa.select(_ports.c.fixed_ip).where(
    _ports.c.network_id == sa.bindparam("net_id"), _ports.c.fixed_ip.is_not(None)
)
_NETWORKS = (
    sa.select(_networks)
    .where(_networks.c.tenant_id == sa.bindparam("tenant_id"))
    .order_by(_networks.c.created_at, _networks.c.id)
)
_INSERT_NETWORK = sa.insert(_networks)
# An update sets one column; network_update runs one per column it changes.
_SET_NETWORK = {
    column: (
        sa.update(_networks)
        .where(_networks.c.id == sa.bindparam("net_id"))
        .values({column: sa.bindparam("value")})
    )
    for column in ("name", "plugin")
}
_DELETE_NETWORK = sa.delete(_networks).where(_networks.c.id == sa.bindparam("net_id"))
_TENANT_NETWORK = sa.select(_networks.c.id).where(
    _networks.c.id == sa.bindparam("net_id"), _networks.c.tenant_id == sa.bindparam("tenant_id")
)

# The port and its network, both of the tenant, as one row (the port's columns first).
_PORT_AND_NETWORK = (
    sa.select(*_ports.c, *(column.label(f"network_{column.name}") for column in _networks.c))
    .join(_networks, _networks.c.id == _ports.c.network_id)
    .where(
        _ports.c.id == sa.bindparam("port_id"),
        _networks.c.id == sa.bindparam("net_id"),
        _networks.c.tenant_id == sa.bindparam("tenant_id"),
    )
)
_ports_of_network = (
    sa.select(_ports)
    .where(_ports.c.network_id == sa.bindparam("net_id"))
    .order_by(_ports.c.created_at, _ports.c.id)
)
_PORTS = _ports_of_network
# A tenant's ports on all its networks (the Neutron v2.0 view has no network in its URLs).
_TENANT_PORTS = (
    sa.select(_ports, _networks.c.subnet_id)
    .join(_networks, _networks.c.id == _ports.c.network_id)
    .where(_networks.c.tenant_id == sa.bindparam("tenant_id"))
    .order_by(_ports.c.created_at, _ports.c.id)
)
_TENANT_PORT = _TENANT_PORTS.where(_ports.c.id == sa.bindparam("port_id"))
# Every tenant's ports with their networks (an admin's lookup across networks).
_ALL_PORTS = (
    sa.select(*_ports.c, *(column.label(f"network_{column.name}") for column in _networks.c))
    .join(_networks, _networks.c.id == _ports.c.network_id)
    .order_by(_ports.c.created_at, _ports.c.id)
)
_ALL_PORTS_ATTACHED_TO = _ALL_PORTS.where(_ports.c.interface_id == sa.bindparam("attachment"))
_PORTS_ATTACHED_TO = _ports_of_network.where(_ports.c.interface_id == sa.bindparam("attachment"))
_HAS_PORTS = sa.select(_ports.c.id).where(_ports.c.network_id == sa.bindparam("net_id")).limit(1)
_INSERT_PORT = sa.insert(_ports)
_SET_PORT_STATE = (
    sa.update(_ports)
    .where(_ports.c.id == sa.bindparam("port_id"))
    .values(state=sa.bindparam("state"))
)
_SET_PORT_OP_STATUS = (
    sa.update(_ports)
    .where(_ports.c.id == sa.bindparam("port_id"))
    .values(op_status=sa.bindparam("op_status"))
)
# Every attached port with its network's tenant (the agents' view, all tenants).
_ATTACHMENTS = (
    sa.select(_ports, _networks.c.tenant_id)
    .join(_networks, _networks.c.id == _ports.c.network_id)
    .where(_ports.c.interface_id.is_not(None))
    .order_by(_ports.c.interface_id)
)
_ATTACHMENT = _ATTACHMENTS.where(_ports.c.interface_id == sa.bindparam("interface_id"))
_DELETE_PORT = sa.delete(_ports).where(_ports.c.id == sa.bindparam("port_id"))
_CLAIM_PORT = (
    sa.update(_ports)
    .where(
        _ports.c.id == sa.bindparam("port_id"),
        _ports.c.network_id.in_(_TENANT_NETWORK.scalar_subquery()),
        _ports.c.interface_id.is_(None),
    )
    .values(interface_id=sa.bindparam("interface_id"), op_status=sa.bindparam("op_status"))
)
_RELEASE_PORT = (
    sa.update(_ports)
    .where(_ports.c.id == sa.bindparam("port_id"))
    .values(interface_id=None, op_status="DOWN")
)

_BOTH_CONFIGURATIONS = sa.union_all(
    sa.select(sa.literal(False), _network_conf.c.key, _network_conf.c.value).where(
        _network_conf.c.network_id == sa.bindparam("net_id")
    ),
    sa.select(sa.literal(True), _port_conf.c.key, _port_conf.c.value).where(
        _port_conf.c.port_id == sa.bindparam("port_id")
    ),
)
# A network's configuration (port_id NULL) and that of each of its ports.
_NETWORK_AND_PORTS_CONFIGURATIONS = sa.union_all(
    sa.select(sa.null().label("port_id"), _network_conf.c.key, _network_conf.c.value).where(
        _network_conf.c.network_id == sa.bindparam("net_id")
    ),
    sa.select(_port_conf.c.port_id, _port_conf.c.key, _port_conf.c.value)
    .join(_ports, _ports.c.id == _port_conf.c.port_id)
    .where(_ports.c.network_id == sa.bindparam("net_id")),
)
_TENANT_NETWORK_CONFIGURATIONS = (
    sa.select(_network_conf.c.network_id, _network_conf.c.key, _network_conf.c.value)
    .join(_networks, _networks.c.id == _network_conf.c.network_id)
    .where(_networks.c.tenant_id == sa.bindparam("tenant_id"))
)


class _Configurations:
    """The statements of one configuration table (its owner column is ``owner``), one row each."""

    def __init__(self, table: sa.Table, owner: str) -> None:
        owned = table.c[owner] == sa.bindparam("owner_id")
        one_key = (owned, table.c.key == sa.bindparam("key_"))
        self.select = sa.select(table.c.key, table.c.value).where(owned)
        self.insert = sa.insert(table).values(
            {
                table.c[owner]: sa.bindparam("owner_id"),
                table.c.key: sa.bindparam("key_"),
                table.c.value: sa.bindparam("value_"),
            }
        )
        self.update = sa.update(table).where(*one_key).values(value=sa.bindparam("value_"))
        self.delete = sa.delete(table).where(*one_key)
        self.delete_all = sa.delete(table).where(owned)


_NETWORK_CONFIGURATION = _Configurations(_network_conf, "network_id")
_PORT_CONFIGURATION = _Configurations(_port_conf, "port_id")


def _subnet_columns(subnet: ipam.Subnet | None) -> dict[str, Any]:
    """Return the ``networks`` columns holding ``subnet`` (all None for none)."""
    if subnet is None:
        return dict(_NO_SUBNET)
    return {
        "subnet_id": subnet.id,
        "cidr": subnet.cidr,
        "gateway_ip": subnet.gateway_ip,
        "enable_dhcp": subnet.enable_dhcp,
        "dhcp_server": subnet.dhcp_server,
    }


#: ``network_update``'s default for ``subnet``: leave it as it is.
KEEP = object()


class _Scope:
    """A thread's open request: whether it may write, and its transaction once begun."""

    __slots__ = ("read_only", "stack", "transaction")

    def __init__(self, read_only: bool) -> None:
        self.read_only = read_only
        self.stack = contextlib.ExitStack()  # ends the transaction with the scope
        self.transaction: sa.Connection | None = None


class QuantumDatabase:
    """Networks, ports, attachments and configuration in one SQL database."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self._current = threading.local()  # the _Scope of this thread's request
        self._kept = servicekit_db.KeptConnection()

    @contextlib.contextmanager
    def request_scope(self, read_only: bool = False) -> Iterator[None]:
        """Run the calls made inside in one transaction, begun by the first of them.

        Nested in another scope (or ``request``), join it. A scope in which
        no call is made touches no database.

        :param read_only: nothing inside writes (on SQLite: begin DEFERRED,
            without the write lock).
        :raises quantum.exceptions.ServiceUnavailable: the database cannot be reached.
        """
        if getattr(self._current, "scope", None) is not None:
            yield
            return
        scope = _Scope(read_only)
        self._current.scope = scope
        try:
            with scope.stack:
                yield
        finally:
            self._current.scope = None

    @contextlib.contextmanager
    def request(self, read_only: bool = False) -> Iterator[sa.Connection]:
        """Run the calls made inside in one transaction, begun now (nested: join the outer one).

        :param read_only: nothing inside writes (on SQLite: begin DEFERRED).
        :raises quantum.exceptions.ServiceUnavailable: the database cannot be reached.
        """
        with self.request_scope(read_only), self._transaction() as transaction:
            yield transaction

    @contextlib.contextmanager
    def _begin(self, read_only: bool) -> Iterator[sa.Connection]:
        begin = self._kept.reading if read_only else self._kept.writing
        try:
            with begin(self.engine) as transaction:
                yield transaction
        except Exception as exc:
            if servicekit_db.unavailable(exc):
                raise exceptions.ServiceUnavailable(reason="database unavailable") from exc
            raise

    @contextlib.contextmanager
    def _transaction(self, read_only: bool = False) -> Iterator[sa.Connection]:
        """The current request's transaction (begun now if not yet), else one of its own."""
        scope = getattr(self._current, "scope", None)
        if scope is None:
            with self._begin(read_only) as transaction:
                yield transaction
            return
        if scope.transaction is None:
            scope.transaction = scope.stack.enter_context(self._begin(scope.read_only))
        yield scope.transaction

    # --- networks ----------------------------------------------------------

    @staticmethod
    def _network(
        transaction: sa.Connection, tenant_id: str, net_id: str, statement: sa.Select = _NETWORK
    ) -> Network:
        rows = transaction.execute(statement, {"net_id": net_id}).all()
        network = Network._make(rows[0]) if rows else None
        if network is None or network.tenant_id != tenant_id:
            raise exceptions.NetworkNotFound(net_id=net_id)
        return network

    def network_list(self, tenant_id: str) -> list[Network]:
        """Return the tenant's networks, oldest first."""
        with self._transaction(read_only=True) as transaction:
            rows = transaction.execute(_NETWORKS, {"tenant_id": tenant_id}).all()
        return [Network._make(row) for row in rows]

    def network_list_with_configuration(
        self, tenant_id: str
    ) -> list[tuple[Network, dict[str, str]]]:
        """Return the tenant's networks, oldest first, each with its configuration (two queries)."""
        params = {"tenant_id": tenant_id}
        with self._transaction(read_only=True) as transaction:
            networks = [Network._make(row) for row in transaction.execute(_NETWORKS, params).all()]
            found = transaction.execute(_TENANT_NETWORK_CONFIGURATIONS, params).all()
        configurations: dict[str, dict[str, str]] = {network.id: {} for network in networks}
        for net_id, key, value in found:
            configurations.setdefault(net_id, {})[key] = value
        return [(network, configurations[network.id]) for network in networks]

    def network_get(self, tenant_id: str, net_id: str) -> Network:
        """Return network ``net_id`` of the tenant.

        :raises quantum.exceptions.NetworkNotFound: none, or another tenant's.
        """
        with self._transaction(read_only=True) as transaction:
            return self._network(transaction, tenant_id, net_id)

    def network_create(
        self,
        tenant_id: str,
        name: str,
        plugin: str,
        configuration: Mapping[str, str],
        subnet: Mapping[str, object] | None = None,
    ) -> Network:
        """Create a network of ``plugin`` with the admin's ``configuration``.

        :param subnet: the body's ``subnet`` (``quantum.ipam.make_subnet``), or None.
        :raises quantum.exceptions.BadRequest: a bad CIDR or gateway.
        """
        chosen = ipam.make_subnet(str(uuid.uuid4()), subnet) if subnet is not None else None
        network = Network(
            id=str(uuid.uuid4()),
            tenant_id=tenant_id,
            name=name,
            plugin=plugin,
            op_status="UP",
            created_at=models.utcnow(),
            **_subnet_columns(chosen),
        )
        with self._transaction() as transaction:
            transaction.execute(_INSERT_NETWORK, network._asdict())
            self._add_configuration(transaction, _NETWORK_CONFIGURATION, network.id, configuration)
        return network

    def network_update(
        self,
        tenant_id: str,
        net_id: str,
        name: str | None = None,
        plugin: str | None = None,
        configuration: Mapping[str, str | None] | None = None,
        subnet: Mapping[str, object] | None | object = KEEP,
    ) -> None:
        """Rename a network, change its plugin, set (or, with None, drop) configuration keys.

        :param subnet: the body's new ``subnet`` (None: remove it; ``KEEP``: leave it).
        :raises quantum.exceptions.SubnetInUse: the CIDR would change (or the
            subnet go) while ports hold addresses of it.
        :raises quantum.exceptions.IpAddressInUse: the new gateway is a port's address.
        """
        with self._transaction() as transaction:
            statement = _NETWORK if subnet is KEEP else _NETWORK_LOCKED
            network = self._network(transaction, tenant_id, net_id, statement)
            for column, value in (("name", name), ("plugin", plugin)):
                if value is not None:
                    transaction.execute(_SET_NETWORK[column], {"net_id": net_id, "value": value})
            if configuration:
                self._set_configuration(transaction, _NETWORK_CONFIGURATION, net_id, configuration)
            if subnet is not KEEP:
                self._set_subnet(transaction, network, subnet)  # type: ignore[arg-type]

    @staticmethod
    def _set_subnet(
        transaction: sa.Connection, network: Network, values: Mapping[str, object] | None
    ) -> None:
        held = set(transaction.execute(_FIXED_IPS, {"net_id": network.id}).scalars())
        old = network.subnet
        if values is None:
            if held:
                raise exceptions.SubnetInUse(
                    net_id=network.id,
                    reason="One or more ports have an IP allocation from this subnet",
                )
            new = None
        else:
            new = ipam.make_subnet(old.id if old else str(uuid.uuid4()), values, held)
            if held and (old is None or new.cidr != old.cidr):
                raise exceptions.SubnetInUse(
                    net_id=network.id,
                    reason="One or more ports have an IP allocation from this subnet",
                )
            if new.gateway_ip in held:
                raise exceptions.IpAddressInUse(net_id=network.id, ip_address=new.gateway_ip)
            if (
                new.enable_dhcp
                and old is not None
                and old.dhcp_server
                and old.cidr == new.cidr
                and old.dhcp_server != new.gateway_ip
            ):
                new = new._replace(dhcp_server=old.dhcp_server)  # the DHCP server stays put
        params = {f"new_{key}": value for key, value in _subnet_columns(new).items()}
        transaction.execute(_SET_SUBNET, {"net_id": network.id, **params})

    def network_delete(self, tenant_id: str, net_id: str) -> None:
        """Delete a network that has no ports.

        :raises quantum.exceptions.NetworkInUse: it still has ports.
        """
        params = {"net_id": net_id}
        with self._transaction() as transaction:
            self._network(transaction, tenant_id, net_id)
            if transaction.execute(_HAS_PORTS, params).all():
                raise exceptions.NetworkInUse(net_id=net_id)
            transaction.execute(_NETWORK_CONFIGURATION.delete_all, {"owner_id": net_id})
            transaction.execute(_DELETE_NETWORK, params)

    def network_configuration(self, net_id: str) -> dict[str, str]:
        """Return the key/values an admin set on network ``net_id``."""
        return self._configuration(_NETWORK_CONFIGURATION, net_id)

    # --- ports ---------------------------------------------------------------

    def _port(self, transaction: sa.Connection, tenant_id: str, net_id: str, port_id: str):
        return self._port_and_network(transaction, tenant_id, net_id, port_id)[0]

    def _port_and_network(
        self, transaction: sa.Connection, tenant_id: str, net_id: str, port_id: str
    ) -> tuple[Port, Network]:
        params = {"port_id": port_id, "net_id": net_id, "tenant_id": tenant_id}
        row = transaction.execute(_PORT_AND_NETWORK, params).first()
        if row is None:
            self._network(transaction, tenant_id, net_id)  # an unknown network is the fault
            raise exceptions.PortNotFound(net_id=net_id, port_id=port_id)
        return Port._make(row[: len(Port._fields)]), Network._make(row[len(Port._fields) :])

    def port_list(self, tenant_id: str, net_id: str, attachment: str | None = None) -> list[Port]:
        """Return a network's ports, oldest first (only the one attached to ``attachment``)."""
        with self._transaction(read_only=True) as transaction:
            self._network(transaction, tenant_id, net_id)
            if attachment is None:
                rows = transaction.execute(_PORTS, {"net_id": net_id}).all()
            else:
                params = {"net_id": net_id, "attachment": attachment}
                rows = transaction.execute(_PORTS_ATTACHED_TO, params).all()
        return [Port._make(row) for row in rows]

    def port_list_all(self, attachment: str | None = None) -> list[tuple[Port, Network]]:
        """Return every tenant's ports with their networks, oldest first (an admin's view).

        :param attachment: only the port attached to this interface-id (a VIF uuid).
        """
        with self._transaction(read_only=True) as transaction:
            if attachment is None:
                rows = transaction.execute(_ALL_PORTS).all()
            else:
                rows = transaction.execute(_ALL_PORTS_ATTACHED_TO, {"attachment": attachment}).all()
        width = len(Port._fields)
        return [(Port._make(row[:width]), Network._make(row[width:])) for row in rows]

    def port_get(self, tenant_id: str, net_id: str, port_id: str) -> Port:
        """Return port ``port_id`` of the tenant's network ``net_id``.

        :raises quantum.exceptions.NetworkNotFound: no such network of the tenant.
        :raises quantum.exceptions.PortNotFound: no such port on it.
        """
        with self._transaction(read_only=True) as transaction:
            return self._port(transaction, tenant_id, net_id, port_id)

    def port_get_with_network(
        self, tenant_id: str, net_id: str, port_id: str
    ) -> tuple[Port, Network]:
        """Return port ``port_id`` and its network ``net_id`` of the tenant (one query).

        :raises quantum.exceptions.NetworkNotFound: no such network of the tenant.
        :raises quantum.exceptions.PortNotFound: no such port on it.
        """
        with self._transaction(read_only=True) as transaction:
            return self._port_and_network(transaction, tenant_id, net_id, port_id)

    def tenant_port_list(self, tenant_id: str) -> list[tuple[Port, str | None]]:
        """Return the ports of all the tenant's networks, oldest first, with their subnet ids."""
        with self._transaction(read_only=True) as transaction:
            rows = transaction.execute(_TENANT_PORTS, {"tenant_id": tenant_id}).all()
        return [(Port._make(row[:-1]), row[-1]) for row in rows]

    def tenant_port_get(self, tenant_id: str, port_id: str) -> tuple[Port, str | None]:
        """Return port ``port_id`` of any of the tenant's networks, with its network's subnet id.

        :raises quantum.exceptions.PortIdNotFound: no such port of the tenant.
        """
        with self._transaction(read_only=True) as transaction:
            row = transaction.execute(
                _TENANT_PORT, {"tenant_id": tenant_id, "port_id": port_id}
            ).first()
        if row is None:
            raise exceptions.PortIdNotFound(port_id=port_id)
        return Port._make(row[:-1]), row[-1]

    def port_create(
        self,
        tenant_id: str,
        net_id: str,
        state: str,
        configuration: Mapping[str, str],
        fixed_ip: str | None = None,
    ) -> Port:
        """Create a port on network ``net_id``, unattached, with a fixed IP if it has a subnet.

        The IP is ``fixed_ip`` or else the lowest free one. Addresses are
        unique per network by a unique key: a port insert that meets an
        address taken meanwhile (a concurrent create) is rolled back to its
        savepoint and the next free address tried.

        :raises quantum.exceptions.BadRequest: ``fixed_ip`` on a network without subnet.
        :raises quantum.exceptions.InvalidIpForNetwork: ``fixed_ip`` outside the CIDR.
        :raises quantum.exceptions.InvalidIpForSubnet: the network or broadcast address.
        :raises quantum.exceptions.IpAddressInUse: ``fixed_ip`` is taken or reserved.
        :raises quantum.exceptions.IpAddressGenerationFailure: no address left.
        """
        port = Port(
            id=str(uuid.uuid4()),
            network_id=net_id,
            state=state,
            op_status="DOWN",
            interface_id=None,
            created_at=models.utcnow(),
        )
        with self._transaction() as transaction:
            network = self._network(transaction, tenant_id, net_id, _NETWORK_SHARED)
            subnet = network.subnet
            if subnet is None:
                if fixed_ip is not None:
                    raise exceptions.BadRequest(
                        reason=f"network {net_id} has no subnet for fixed IP {fixed_ip}"
                    )
                transaction.execute(_INSERT_PORT, port._asdict())
            else:
                port = self._insert_with_address(transaction, port, subnet, fixed_ip)
            self._add_configuration(transaction, _PORT_CONFIGURATION, port.id, configuration)
        return port

    @staticmethod
    def _insert_with_address(
        transaction: sa.Connection, port: Port, subnet: ipam.Subnet, requested: str | None
    ) -> Port:
        net_id = port.network_id
        held = set(transaction.execute(_FIXED_IPS, {"net_id": net_id}).scalars())
        if requested is not None:
            candidates = iter([ipam.check_requested(net_id, subnet, requested, held)])
        else:
            candidates = ipam.free_addresses(subnet, held)
        for address in candidates:
            addressed = port._replace(fixed_ip=address)
            try:
                with transaction.begin_nested():
                    transaction.execute(_INSERT_PORT, addressed._asdict())
            except db_exc.DBDuplicateEntry:
                # Taken by a create that committed after ``held`` was read.
                if requested is not None:
                    raise exceptions.IpAddressInUse(net_id=net_id, ip_address=address) from None
                continue
            return addressed
        raise exceptions.IpAddressGenerationFailure(net_id=net_id)

    def port_update(
        self,
        tenant_id: str,
        net_id: str,
        port_id: str,
        state: str | None = None,
        configuration: Mapping[str, str | None] | None = None,
        op_status: str | None = None,
    ) -> None:
        """Change a port's state or op-status; set (or, with None, drop) configuration keys."""
        with self._transaction() as transaction:
            self._port(transaction, tenant_id, net_id, port_id)
            if state is not None:
                transaction.execute(_SET_PORT_STATE, {"port_id": port_id, "state": state})
            if op_status is not None:
                params = {"port_id": port_id, "op_status": op_status}
                transaction.execute(_SET_PORT_OP_STATUS, params)
            if configuration:
                self._set_configuration(transaction, _PORT_CONFIGURATION, port_id, configuration)

    def port_delete(self, tenant_id: str, net_id: str, port_id: str) -> None:
        """Delete an unattached port.

        :raises quantum.exceptions.PortInUse: something is attached to it.
        """
        with self._transaction() as transaction:
            port = self._port(transaction, tenant_id, net_id, port_id)
            if port.interface_id is not None:
                raise exceptions.PortInUse(port_id=port_id, att_id=port.interface_id)
            transaction.execute(_PORT_CONFIGURATION.delete_all, {"owner_id": port_id})
            transaction.execute(_DELETE_PORT, {"port_id": port_id})

    def port_configuration(self, port_id: str) -> dict[str, str]:
        """Return the key/values an admin set on port ``port_id``."""
        return self._configuration(_PORT_CONFIGURATION, port_id)

    def port_and_network_configuration(
        self, net_id: str, port_id: str
    ) -> tuple[dict[str, str], dict[str, str]]:
        """Return the key/values an admin set on network ``net_id`` and on port ``port_id``."""
        with self._transaction(read_only=True) as transaction:
            rows = transaction.execute(
                _BOTH_CONFIGURATIONS, {"net_id": net_id, "port_id": port_id}
            ).all()
        found: tuple[dict[str, str], dict[str, str]] = ({}, {})
        for of_port, key, value in rows:
            found[bool(of_port)][key] = value
        return found

    def network_and_port_configurations(
        self, net_id: str
    ) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
        """Return what an admin set on network ``net_id`` and on each of its ports (one query).

        :returns: the network's key/values, and ``{port id: key/values}`` of
            the ports that have some.
        """
        with self._transaction(read_only=True) as transaction:
            rows = transaction.execute(_NETWORK_AND_PORTS_CONFIGURATIONS, {"net_id": net_id}).all()
        of_network: dict[str, str] = {}
        of_ports: dict[str, dict[str, str]] = {}
        for port_id, key, value in rows:
            if port_id is None:
                of_network[key] = value
            else:
                of_ports.setdefault(port_id, {})[key] = value
        return of_network, of_ports

    # --- attachments ---------------------------------------------------------

    def attach(
        self, tenant_id: str, net_id: str, port_id: str, interface_id: str, op_status: str = "UP"
    ) -> None:
        """Attach interface ``interface_id`` (a VIF uuid) to a free port, op-status ``op_status``.

        :raises quantum.exceptions.AlreadyAttached: the port has an
            attachment, or the interface is attached to another port.
        """
        params = {
            "port_id": port_id,
            "net_id": net_id,
            "tenant_id": tenant_id,
            "interface_id": interface_id,
            "op_status": op_status,
        }
        try:
            with self._transaction() as transaction:
                # One conditional update claims a free port of the tenant's
                # network: of two concurrent attaches, one wins.
                if not transaction.execute(_CLAIM_PORT, params).rowcount:
                    port = self._port(transaction, tenant_id, net_id, port_id)  # or not found
                    raise exceptions.AlreadyAttached(
                        att_id=interface_id,
                        port_id=port_id,
                        reason=f"the port has attachment {port.interface_id}",
                    )
        except db_exc.DBDuplicateEntry as exc:
            raise exceptions.AlreadyAttached(
                att_id=interface_id,
                port_id=port_id,
                reason="the interface is attached to another port",
            ) from exc

    def detach(self, tenant_id: str, net_id: str, port_id: str) -> None:
        """Remove a port's attachment (nothing to do if it has none)."""
        with self._transaction() as transaction:
            self._port(transaction, tenant_id, net_id, port_id)
            transaction.execute(_RELEASE_PORT, {"port_id": port_id})

    def attachment_list(self, interface_id: str | None = None) -> list[tuple[Port, str]]:
        """Return every attached port (or the one of ``interface_id``) with its tenant id."""
        with self._transaction(read_only=True) as transaction:
            if interface_id is None:
                rows = transaction.execute(_ATTACHMENTS).all()
            else:
                rows = transaction.execute(_ATTACHMENT, {"interface_id": interface_id}).all()
        return [(Port._make(row[: len(Port._fields)]), row[-1]) for row in rows]

    # --- configuration rows ----------------------------------------------------

    def _configuration(self, table: _Configurations, owner_id: str) -> dict[str, str]:
        with self._transaction(read_only=True) as transaction:
            return dict(transaction.execute(table.select, {"owner_id": owner_id}).all())

    @staticmethod
    def _add_configuration(
        transaction: sa.Connection,
        table: _Configurations,
        owner_id: str,
        configuration: Mapping[str, str],
    ) -> None:
        """Insert the configuration of a network or port just created (it has none yet)."""
        for key, value in configuration.items():
            transaction.execute(table.insert, {"owner_id": owner_id, "key_": key, "value_": value})

    @staticmethod
    def _set_configuration(
        transaction: sa.Connection,
        table: _Configurations,
        owner_id: str,
        configuration: Mapping[str, str | None],
    ) -> None:
        """Set each key to its value, or drop it for None (a few keys: one statement each)."""
        existing = dict(transaction.execute(table.select, {"owner_id": owner_id}).all())
        for key, value in configuration.items():
            params = {"owner_id": owner_id, "key_": key, "value_": value}
            if value is None:
                if key in existing:
                    transaction.execute(table.delete, params)
            elif key not in existing:
                transaction.execute(table.insert, params)
            elif existing[key] != value:
                transaction.execute(table.update, params)
