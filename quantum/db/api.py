"""Quantum's data API: the only module reading and writing its tables.

Every call is scoped to a tenant: another tenant's network or port is "not
found". Each call is one transaction, so a request that fails writes nothing;
inside ``request()`` (the API opens one per request) the calls join one
transaction instead, which for a read-only request begins DEFERRED on SQLite
(it reads a snapshot and never waits for a writer).
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Iterator
from collections.abc import Mapping

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy import orm

from nova.db import engine as db_engine
from quantum import exceptions
from quantum.db import models


class QuantumDatabase:
    """Networks, ports, attachments and configuration in one SQL database."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self._sessionmaker = orm.sessionmaker(engine, expire_on_commit=False)
        self._read_sessionmaker = orm.sessionmaker(db_engine.reader(engine), expire_on_commit=False)
        self._current = threading.local()  # the session of this thread's request()

    @contextlib.contextmanager
    def request(self, read_only: bool = False) -> Iterator[orm.Session]:
        """Run the calls made inside in one transaction (nested: join the outer one).

        :param read_only: nothing inside writes (on SQLite: begin DEFERRED).
        """
        outer = getattr(self._current, "session", None)
        if outer is not None:
            yield outer
            return
        with self._begin(read_only) as session:
            self._current.session = session
            try:
                yield session
            finally:
                self._current.session = None

    @contextlib.contextmanager
    def _begin(self, read_only: bool) -> Iterator[orm.Session]:
        sessionmaker = self._read_sessionmaker if read_only else self._sessionmaker
        try:
            with db_engine.writing(self.engine, not read_only), sessionmaker.begin() as session:
                yield session
        except sa_exc.OperationalError as exc:
            if exc.connection_invalidated or "connect" in str(exc.orig).lower():
                raise exceptions.ServiceUnavailable(reason="database unreachable")
            raise

    @contextlib.contextmanager
    def _transaction(self, read_only: bool = False) -> Iterator[orm.Session]:
        """The current request's transaction, else a transaction of its own."""
        session = getattr(self._current, "session", None)
        if session is not None:
            yield session
            return
        with self._begin(read_only) as session:
            yield session

    # --- networks ----------------------------------------------------------

    def _network(self, session: orm.Session, tenant_id: str, net_id: str) -> models.Network:
        network = session.get(models.Network, net_id)
        if network is None or network.tenant_id != tenant_id:
            raise exceptions.NetworkNotFound(net_id=net_id)
        return network

    def network_list(self, tenant_id: str) -> list[models.Network]:
        """Return the tenant's networks, oldest first."""
        query = (
            sa.select(models.Network)
            .where(models.Network.tenant_id == tenant_id)
            .order_by(models.Network.created_at, models.Network.id)
        )
        with self._transaction(read_only=True) as session:
            return list(session.scalars(query))

    def network_get(self, tenant_id: str, net_id: str) -> models.Network:
        """Return network ``net_id`` of the tenant.

        :raises quantum.exceptions.NetworkNotFound: none, or another tenant's.
        """
        with self._transaction(read_only=True) as session:
            return self._network(session, tenant_id, net_id)

    def network_create(
        self, tenant_id: str, name: str, plugin: str, configuration: Mapping[str, str]
    ) -> models.Network:
        """Create a network of ``plugin`` with the admin's ``configuration``."""
        network = models.Network(
            id=str(uuid.uuid4()), tenant_id=tenant_id, name=name, plugin=plugin, op_status="UP"
        )
        with self._transaction() as session:
            session.add(network)
            session.flush()
            self._set_configuration(
                session, models.NetworkConfiguration, "network_id", network.id, configuration
            )
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
        with self._transaction() as session:
            network = self._network(session, tenant_id, net_id)
            if name is not None:
                network.name = name
            if plugin is not None:
                network.plugin = plugin
            if configuration:
                self._set_configuration(
                    session, models.NetworkConfiguration, "network_id", net_id, configuration
                )

    def network_delete(self, tenant_id: str, net_id: str) -> None:
        """Delete a network that has no ports.

        :raises quantum.exceptions.NetworkInUse: it still has ports.
        """
        with self._transaction() as session:
            network = self._network(session, tenant_id, net_id)
            has_ports = session.scalar(
                sa.select(models.Port.id).where(models.Port.network_id == net_id).limit(1)
            )
            if has_ports:
                raise exceptions.NetworkInUse(net_id=net_id)
            session.execute(
                sa.delete(models.NetworkConfiguration).where(
                    models.NetworkConfiguration.network_id == net_id
                )
            )
            session.delete(network)

    def network_configuration(self, net_id: str) -> dict[str, str]:
        """Return the key/values an admin set on network ``net_id``."""
        return self._configuration(models.NetworkConfiguration, "network_id", net_id)

    # --- ports ---------------------------------------------------------------

    def _port(self, session: orm.Session, tenant_id: str, net_id: str, port_id: str):
        return self._port_and_network(session, tenant_id, net_id, port_id)[0]

    def _port_and_network(self, session: orm.Session, tenant_id: str, net_id: str, port_id: str):
        found = session.execute(
            sa.select(models.Port, models.Network)
            .join(models.Network, models.Network.id == models.Port.network_id)
            .where(
                models.Port.id == port_id,
                models.Network.id == net_id,
                models.Network.tenant_id == tenant_id,
            )
        ).first()
        if found is None:
            self._network(session, tenant_id, net_id)  # an unknown network is the fault
            raise exceptions.PortNotFound(net_id=net_id, port_id=port_id)
        return found.Port, found.Network

    def port_list(
        self, tenant_id: str, net_id: str, attachment: str | None = None
    ) -> list[models.Port]:
        """Return a network's ports, oldest first (only the one attached to ``attachment``)."""
        query = (
            sa.select(models.Port)
            .where(models.Port.network_id == net_id)
            .order_by(models.Port.created_at, models.Port.id)
        )
        if attachment is not None:
            query = query.where(models.Port.interface_id == attachment)
        with self._transaction(read_only=True) as session:
            self._network(session, tenant_id, net_id)
            return list(session.scalars(query))

    def port_get(self, tenant_id: str, net_id: str, port_id: str) -> models.Port:
        """Return port ``port_id`` of the tenant's network ``net_id``.

        :raises quantum.exceptions.NetworkNotFound: no such network of the tenant.
        :raises quantum.exceptions.PortNotFound: no such port on it.
        """
        with self._transaction(read_only=True) as session:
            return self._port(session, tenant_id, net_id, port_id)

    def port_get_with_network(
        self, tenant_id: str, net_id: str, port_id: str
    ) -> tuple[models.Port, models.Network]:
        """Return port ``port_id`` and its network ``net_id`` of the tenant (one query).

        :raises quantum.exceptions.NetworkNotFound: no such network of the tenant.
        :raises quantum.exceptions.PortNotFound: no such port on it.
        """
        with self._transaction(read_only=True) as session:
            return self._port_and_network(session, tenant_id, net_id, port_id)

    def port_create(
        self, tenant_id: str, net_id: str, state: str, configuration: Mapping[str, str]
    ) -> models.Port:
        """Create a port on network ``net_id``, unattached."""
        port = models.Port(
            id=str(uuid.uuid4()),
            network_id=net_id,
            state=state,
            op_status="DOWN",
            interface_id=None,  # set, so an attach in the same session updates it
        )
        with self._transaction() as session:
            self._network(session, tenant_id, net_id)
            session.add(port)
            session.flush()
            self._set_configuration(
                session, models.PortConfiguration, "port_id", port.id, configuration
            )
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
        with self._transaction() as session:
            port = self._port(session, tenant_id, net_id, port_id)
            if state is not None:
                port.state = state
            if configuration:
                self._set_configuration(
                    session, models.PortConfiguration, "port_id", port_id, configuration
                )

    def port_delete(self, tenant_id: str, net_id: str, port_id: str) -> None:
        """Delete an unattached port.

        :raises quantum.exceptions.PortInUse: something is attached to it.
        """
        with self._transaction() as session:
            port = self._port(session, tenant_id, net_id, port_id)
            if port.interface_id is not None:
                raise exceptions.PortInUse(port_id=port_id, att_id=port.interface_id)
            session.execute(
                sa.delete(models.PortConfiguration).where(
                    models.PortConfiguration.port_id == port_id
                )
            )
            session.delete(port)

    def port_configuration(self, port_id: str) -> dict[str, str]:
        """Return the key/values an admin set on port ``port_id``."""
        return self._configuration(models.PortConfiguration, "port_id", port_id)

    def port_and_network_configuration(
        self, net_id: str, port_id: str
    ) -> tuple[dict[str, str], dict[str, str]]:
        """Return the key/values an admin set on network ``net_id`` and on port ``port_id``."""
        network, port = models.NetworkConfiguration, models.PortConfiguration
        query = sa.union_all(
            sa.select(sa.literal(False), network.key, network.value).where(
                network.network_id == net_id
            ),
            sa.select(sa.literal(True), port.key, port.value).where(port.port_id == port_id),
        )
        found: tuple[dict[str, str], dict[str, str]] = ({}, {})
        with self._transaction(read_only=True) as session:
            for of_port, key, value in session.execute(query):
                found[bool(of_port)][key] = value
        return found

    # --- attachments ---------------------------------------------------------

    def attach(self, tenant_id: str, net_id: str, port_id: str, interface_id: str) -> None:
        """Attach interface ``interface_id`` (a VIF uuid) to a free port.

        :raises quantum.exceptions.AlreadyAttached: the port has an
            attachment, or the interface is attached to another port.
        """
        tenant_network = sa.select(models.Network.id).where(
            models.Network.id == net_id, models.Network.tenant_id == tenant_id
        )
        try:
            with self._transaction() as session:
                # One conditional update claims a free port of the tenant's
                # network: of two concurrent attaches, one wins.
                claimed = session.execute(
                    sa.update(models.Port)
                    .where(
                        models.Port.id == port_id,
                        models.Port.network_id.in_(tenant_network),
                        models.Port.interface_id.is_(None),
                    )
                    .values(interface_id=interface_id, op_status="UP"),
                    # The port may be loaded in this request's session already.
                    execution_options={"synchronize_session": "fetch"},
                ).rowcount
                if not claimed:
                    port = self._port(session, tenant_id, net_id, port_id)  # or not found
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
        with self._transaction() as session:
            port = self._port(session, tenant_id, net_id, port_id)
            port.interface_id = None
            port.op_status = "DOWN"

    # --- configuration rows ----------------------------------------------------

    def _configuration(self, model, column: str, owner_id: str) -> dict[str, str]:
        query = sa.select(model.key, model.value).where(getattr(model, column) == owner_id)
        with self._transaction(read_only=True) as session:
            return dict(session.execute(query).all())

    @staticmethod
    def _set_configuration(
        session: orm.Session,
        model,
        column: str,
        owner_id: str,
        configuration: Mapping[str, str | None],
    ) -> None:
        for key, value in configuration.items():
            existing = session.get(model, (owner_id, key))
            if value is None:
                if existing is not None:
                    session.delete(existing)
            elif existing is not None:
                existing.value = value
            else:
                session.add(model(**{column: owner_id, "key": key, "value": value}))
