"""Quantum's data API: the only module reading and writing its tables.

Every call is scoped to a tenant: another tenant's network or port is "not
found". Each call is one transaction, so a request that fails writes nothing;
inside ``request()`` (the API opens one per request) the calls join one
transaction instead, which for a read-only request begins DEFERRED on SQLite
(it reads a snapshot and never waits for a writer).

The statements are SQLAlchemy Core, built once at import and run on a
``Connection``: every Quantum request of a server launch is one or two
small statements, and the ORM's session, identity map and unit of work
cost several times what the database takes. Networks and ports come back as
named tuples with the models' column names.
"""

from __future__ import annotations

import collections
import contextlib
import threading
import uuid
from collections.abc import Iterator
from collections.abc import Mapping

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from nova.db import engine as db_engine
from quantum import exceptions
from quantum.db import models

_networks = models.Network.__table__
_ports = models.Port.__table__
_network_conf = models.NetworkConfiguration.__table__
_port_conf = models.PortConfiguration.__table__

#: A network or a port as the calls return them (the rows of their tables).
Network = collections.namedtuple("Network", [column.name for column in _networks.c])
Port = collections.namedtuple("Port", [column.name for column in _ports.c])

_NETWORK = sa.select(_networks).where(_networks.c.id == sa.bindparam("net_id"))
_NETWORKS = (
    sa.select(_networks)
    .where(_networks.c.tenant_id == sa.bindparam("tenant_id"))
    .order_by(_networks.c.created_at, _networks.c.id)
)
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
_PORTS = (
    sa.select(_ports)
    .where(_ports.c.network_id == sa.bindparam("net_id"))
    .order_by(_ports.c.created_at, _ports.c.id)
)
_PORTS_ATTACHED_TO = _PORTS.where(_ports.c.interface_id == sa.bindparam("attachment"))
_HAS_PORTS = sa.select(_ports.c.id).where(_ports.c.network_id == sa.bindparam("net_id")).limit(1)
_CLAIM_PORT = (
    sa.update(_ports)
    .where(
        _ports.c.id == sa.bindparam("port_id"),
        _ports.c.network_id.in_(_TENANT_NETWORK.scalar_subquery()),
        _ports.c.interface_id.is_(None),
    )
    .values(interface_id=sa.bindparam("interface_id"), op_status="UP")
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


_TENANT_NETWORK_CONFIGURATIONS = (
    sa.select(_network_conf.c.network_id, _network_conf.c.key, _network_conf.c.value)
    .join(_networks, _networks.c.id == _network_conf.c.network_id)
    .where(_networks.c.tenant_id == sa.bindparam("tenant_id"))
)


class _Configurations:
    """The statements of one configuration table (its owner column is ``owner``)."""

    def __init__(self, table: sa.Table, owner: str) -> None:
        self.owner = owner
        column = table.c[owner]
        self.select = sa.select(table.c.key, table.c.value).where(
            column == sa.bindparam("owner_id")
        )
        self.insert = sa.insert(table)
        self.update = (
            sa.update(table)
            .where(column == sa.bindparam("owner_id"), table.c.key == sa.bindparam("key_"))
            .values(value=sa.bindparam("value_"))
        )
        self.delete_keys = sa.delete(table).where(
            column == sa.bindparam("owner_id"),
            table.c.key.in_(sa.bindparam("keys", expanding=True)),
        )
        self.delete_all = sa.delete(table).where(column == sa.bindparam("owner_id"))


_NETWORK_CONFIGURATION = _Configurations(_network_conf, "network_id")
_PORT_CONFIGURATION = _Configurations(_port_conf, "port_id")


class QuantumDatabase:
    """Networks, ports, attachments and configuration in one SQL database."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self._reader = db_engine.reader(engine)
        self._current = threading.local()  # the connection of this thread's request()

    @contextlib.contextmanager
    def request(self, read_only: bool = False) -> Iterator[sa.Connection]:
        """Run the calls made inside in one transaction (nested: join the outer one).

        :param read_only: nothing inside writes (on SQLite: begin DEFERRED).
        """
        outer = getattr(self._current, "connection", None)
        if outer is not None:
            yield outer
            return
        with self._begin(read_only) as connection:
            self._current.connection = connection
            try:
                yield connection
            finally:
                self._current.connection = None

    @contextlib.contextmanager
    def _begin(self, read_only: bool) -> Iterator[sa.Connection]:
        engine = self._reader if read_only else self.engine
        try:
            with db_engine.writing(self.engine, not read_only), engine.begin() as connection:
                yield connection
        except sa_exc.OperationalError as exc:
            if exc.connection_invalidated or "connect" in str(exc.orig).lower():
                raise exceptions.ServiceUnavailable(reason="database unreachable")
            raise

    @contextlib.contextmanager
    def _transaction(self, read_only: bool = False) -> Iterator[sa.Connection]:
        """The current request's transaction, else a transaction of its own."""
        connection = getattr(self._current, "connection", None)
        if connection is not None:
            yield connection
            return
        with self._begin(read_only) as connection:
            yield connection

    # --- networks ----------------------------------------------------------

    @staticmethod
    def _network(connection: sa.Connection, tenant_id: str, net_id: str) -> Network:
        network = connection.execute(_NETWORK, {"net_id": net_id}).first()
        if network is None or network.tenant_id != tenant_id:
            raise exceptions.NetworkNotFound(net_id=net_id)
        return network

    def network_list(self, tenant_id: str) -> list[Network]:
        """Return the tenant's networks, oldest first."""
        with self._transaction(read_only=True) as connection:
            return connection.execute(_NETWORKS, {"tenant_id": tenant_id}).all()

    def network_list_with_configuration(
        self, tenant_id: str
    ) -> list[tuple[Network, dict[str, str]]]:
        """Return the tenant's networks, oldest first, each with its configuration (two queries)."""
        with self._transaction(read_only=True) as connection:
            networks = connection.execute(_NETWORKS, {"tenant_id": tenant_id}).all()
            configurations: dict[str, dict[str, str]] = {network.id: {} for network in networks}
            params = {"tenant_id": tenant_id}
            for net_id, key, value in connection.execute(_TENANT_NETWORK_CONFIGURATIONS, params):
                configurations.setdefault(net_id, {})[key] = value
        return [(network, configurations[network.id]) for network in networks]

    def network_get(self, tenant_id: str, net_id: str) -> Network:
        """Return network ``net_id`` of the tenant.

        :raises quantum.exceptions.NetworkNotFound: none, or another tenant's.
        """
        with self._transaction(read_only=True) as connection:
            return self._network(connection, tenant_id, net_id)

    def network_create(
        self, tenant_id: str, name: str, plugin: str, configuration: Mapping[str, str]
    ) -> Network:
        """Create a network of ``plugin`` with the admin's ``configuration``."""
        network = Network(
            id=str(uuid.uuid4()),
            tenant_id=tenant_id,
            name=name,
            plugin=plugin,
            op_status="UP",
            created_at=models.utcnow(),
        )
        with self._transaction() as connection:
            connection.execute(sa.insert(_networks), network._asdict())
            self._set_configuration(connection, _NETWORK_CONFIGURATION, network.id, configuration)
        return network

    def network_update(
        self,
        tenant_id: str,
        net_id: str,
        name: str | None = None,
        plugin: str | None = None,
        configuration: Mapping[str, str | None] | None = None,
    ) -> None:
        """Rename a network, change its plugin, set (or, with None, drop) configuration keys."""
        with self._transaction() as connection:
            self._network(connection, tenant_id, net_id)
            values = {
                key: value
                for key, value in (("name", name), ("plugin", plugin))
                if value is not None
            }
            if values:
                connection.execute(
                    sa.update(_networks).where(_networks.c.id == net_id).values(**values)
                )
            if configuration:
                self._set_configuration(connection, _NETWORK_CONFIGURATION, net_id, configuration)

    def network_delete(self, tenant_id: str, net_id: str) -> None:
        """Delete a network that has no ports.

        :raises quantum.exceptions.NetworkInUse: it still has ports.
        """
        with self._transaction() as connection:
            self._network(connection, tenant_id, net_id)
            if connection.execute(_HAS_PORTS, {"net_id": net_id}).first() is not None:
                raise exceptions.NetworkInUse(net_id=net_id)
            connection.execute(_NETWORK_CONFIGURATION.delete_all, {"owner_id": net_id})
            connection.execute(sa.delete(_networks).where(_networks.c.id == net_id))

    def network_configuration(self, net_id: str) -> dict[str, str]:
        """Return the key/values an admin set on network ``net_id``."""
        return self._configuration(_NETWORK_CONFIGURATION, net_id)

    # --- ports ---------------------------------------------------------------

    def _port(self, connection: sa.Connection, tenant_id: str, net_id: str, port_id: str):
        return self._port_and_network(connection, tenant_id, net_id, port_id)[0]

    def _port_and_network(
        self, connection: sa.Connection, tenant_id: str, net_id: str, port_id: str
    ) -> tuple[Port, Network]:
        found = connection.execute(
            _PORT_AND_NETWORK, {"port_id": port_id, "net_id": net_id, "tenant_id": tenant_id}
        ).first()
        if found is None:
            self._network(connection, tenant_id, net_id)  # an unknown network is the fault
            raise exceptions.PortNotFound(net_id=net_id, port_id=port_id)
        return Port._make(found[: len(Port._fields)]), Network._make(found[len(Port._fields) :])

    def port_list(self, tenant_id: str, net_id: str, attachment: str | None = None) -> list[Port]:
        """Return a network's ports, oldest first (only the one attached to ``attachment``)."""
        with self._transaction(read_only=True) as connection:
            self._network(connection, tenant_id, net_id)
            if attachment is None:
                return connection.execute(_PORTS, {"net_id": net_id}).all()
            return connection.execute(
                _PORTS_ATTACHED_TO, {"net_id": net_id, "attachment": attachment}
            ).all()

    def port_get(self, tenant_id: str, net_id: str, port_id: str) -> Port:
        """Return port ``port_id`` of the tenant's network ``net_id``.

        :raises quantum.exceptions.NetworkNotFound: no such network of the tenant.
        :raises quantum.exceptions.PortNotFound: no such port on it.
        """
        with self._transaction(read_only=True) as connection:
            return self._port(connection, tenant_id, net_id, port_id)

    def port_get_with_network(
        self, tenant_id: str, net_id: str, port_id: str
    ) -> tuple[Port, Network]:
        """Return port ``port_id`` and its network ``net_id`` of the tenant (one query).

        :raises quantum.exceptions.NetworkNotFound: no such network of the tenant.
        :raises quantum.exceptions.PortNotFound: no such port on it.
        """
        with self._transaction(read_only=True) as connection:
            return self._port_and_network(connection, tenant_id, net_id, port_id)

    def port_create(
        self, tenant_id: str, net_id: str, state: str, configuration: Mapping[str, str]
    ) -> Port:
        """Create a port on network ``net_id``, unattached."""
        port = Port(
            id=str(uuid.uuid4()),
            network_id=net_id,
            state=state,
            op_status="DOWN",
            interface_id=None,
            created_at=models.utcnow(),
        )
        with self._transaction() as connection:
            self._network(connection, tenant_id, net_id)
            connection.execute(sa.insert(_ports), port._asdict())
            self._set_configuration(connection, _PORT_CONFIGURATION, port.id, configuration)
        return port

    def port_update(
        self,
        tenant_id: str,
        net_id: str,
        port_id: str,
        state: str | None = None,
        configuration: Mapping[str, str | None] | None = None,
    ) -> None:
        """Change a port's state; set (or, with None, drop) configuration keys."""
        with self._transaction() as connection:
            self._port(connection, tenant_id, net_id, port_id)
            if state is not None:
                connection.execute(
                    sa.update(_ports).where(_ports.c.id == port_id).values(state=state)
                )
            if configuration:
                self._set_configuration(connection, _PORT_CONFIGURATION, port_id, configuration)

    def port_delete(self, tenant_id: str, net_id: str, port_id: str) -> None:
        """Delete an unattached port.

        :raises quantum.exceptions.PortInUse: something is attached to it.
        """
        with self._transaction() as connection:
            port = self._port(connection, tenant_id, net_id, port_id)
            if port.interface_id is not None:
                raise exceptions.PortInUse(port_id=port_id, att_id=port.interface_id)
            connection.execute(_PORT_CONFIGURATION.delete_all, {"owner_id": port_id})
            connection.execute(sa.delete(_ports).where(_ports.c.id == port_id))

    def port_configuration(self, port_id: str) -> dict[str, str]:
        """Return the key/values an admin set on port ``port_id``."""
        return self._configuration(_PORT_CONFIGURATION, port_id)

    def port_and_network_configuration(
        self, net_id: str, port_id: str
    ) -> tuple[dict[str, str], dict[str, str]]:
        """Return the key/values an admin set on network ``net_id`` and on port ``port_id``."""
        found: tuple[dict[str, str], dict[str, str]] = ({}, {})
        with self._transaction(read_only=True) as connection:
            params = {"net_id": net_id, "port_id": port_id}
            for of_port, key, value in connection.execute(_BOTH_CONFIGURATIONS, params):
                found[bool(of_port)][key] = value
        return found

    # --- attachments ---------------------------------------------------------

    def attach(self, tenant_id: str, net_id: str, port_id: str, interface_id: str) -> None:
        """Attach interface ``interface_id`` (a VIF uuid) to a free port.

        :raises quantum.exceptions.AlreadyAttached: the port has an
            attachment, or the interface is attached to another port.
        """
        params = {
            "port_id": port_id,
            "net_id": net_id,
            "tenant_id": tenant_id,
            "interface_id": interface_id,
        }
        try:
            with self._transaction() as connection:
                # One conditional update claims a free port of the tenant's
                # network: of two concurrent attaches, one wins.
                if not connection.execute(_CLAIM_PORT, params).rowcount:
                    port = self._port(connection, tenant_id, net_id, port_id)  # or not found
                    raise exceptions.AlreadyAttached(
                        att_id=interface_id,
                        port_id=port_id,
                        reason=f"the port has attachment {port.interface_id}",
                    )
        except sa_exc.IntegrityError:
            raise exceptions.AlreadyAttached(
                att_id=interface_id,
                port_id=port_id,
                reason="the interface is attached to another port",
            )

    def detach(self, tenant_id: str, net_id: str, port_id: str) -> None:
        """Remove a port's attachment (nothing to do if it has none)."""
        with self._transaction() as connection:
            self._port(connection, tenant_id, net_id, port_id)
            connection.execute(_RELEASE_PORT, {"port_id": port_id})

    # --- configuration rows ----------------------------------------------------

    def _configuration(self, table: _Configurations, owner_id: str) -> dict[str, str]:
        with self._transaction(read_only=True) as connection:
            return dict(connection.execute(table.select, {"owner_id": owner_id}).all())

    @staticmethod
    def _set_configuration(
        connection: sa.Connection,
        table: _Configurations,
        owner_id: str,
        configuration: Mapping[str, str | None],
    ) -> None:
        if not configuration:
            return
        existing = dict(connection.execute(table.select, {"owner_id": owner_id}).all())
        dropped = [key for key, value in configuration.items() if value is None]
        if dropped:
            connection.execute(table.delete_keys, {"owner_id": owner_id, "keys": dropped})
        changed = [
            {"owner_id": owner_id, "key_": key, "value_": value}
            for key, value in configuration.items()
            if value is not None and key in existing
        ]
        if changed:
            connection.execute(table.update, changed)
        added = [
            {table.owner: owner_id, "key": key, "value": value}
            for key, value in configuration.items()
            if value is not None and key not in existing
        ]
        if added:
            connection.execute(table.insert, added)
