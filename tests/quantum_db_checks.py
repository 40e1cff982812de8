"""Quantum's schema and data API on a given database backend."""

from __future__ import annotations

import datetime
import socket

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from quantum import exceptions
from quantum.db import api as db_api
from quantum.db import migration
from quantum.db import models
from servicekit import db as servicekit_db
from tests import databases


class QuantumDatabaseChecks(databases.DatabaseTestCase):
    __test__ = False

    def setUp(self) -> None:
        super().setUp()
        self.engine = servicekit_db.create_engine(self.db_url)
        self.addCleanup(self.engine.dispose)
        migration.upgrade(self.engine)
        self.db = db_api.QuantumDatabase(self.engine)

    def test_schema_matches_models_and_upgrade_is_idempotent(self):
        migration.upgrade(self.engine)
        with self.engine.connect() as connection:
            self.assertEqual(migration.current_revision(connection), "001")
            context = MigrationContext.configure(
                connection,
                opts={"compare_type": True, "version_table": migration.VERSION_TABLE},
            )
            self.assertEqual([], compare_metadata(context, models.Base.metadata))

    def test_network_port_attachment_configuration(self):
        network = self.db.network_create("t1", "net", "openvswitch", {"a": "1"})
        port = self.db.port_create("t1", network.id, "ACTIVE", {"b": "2"})
        self.db.attach("t1", network.id, port.id, "vif-1")
        with self.assertRaises(exceptions.AlreadyAttached):
            self.db.attach("t1", network.id, port.id, "vif-2")
        other = self.db.port_create("t1", network.id, "DOWN", {})
        with self.assertRaises(exceptions.AlreadyAttached):
            self.db.attach("t1", network.id, other.id, "vif-1")
        with self.assertRaises(exceptions.PortInUse):
            self.db.port_delete("t1", network.id, port.id)
        with self.assertRaises(exceptions.NetworkNotFound):
            self.db.port_get("t2", network.id, port.id)
        self.assertEqual(self.db.network_configuration(network.id), {"a": "1"})
        self.assertEqual(self.db.port_configuration(port.id), {"b": "2"})
        self.db.detach("t1", network.id, port.id)
        self.db.port_delete("t1", network.id, port.id)
        self.db.port_delete("t1", network.id, other.id)
        self.db.network_delete("t1", network.id)
        self.assertEqual(self.db.network_list("t1"), [])

    def test_calls_in_a_request_share_one_transaction(self):
        network = self.db.network_create("t1", "net", "linuxbridge", {})
        with self.assertRaises(exceptions.PortInUse):
            with self.db.request():
                port = self.db.port_create("t1", network.id, "ACTIVE", {"k": "v"})
                self.db.attach("t1", network.id, port.id, "vif-1")
                self.assertEqual(self.db.port_get("t1", network.id, port.id).interface_id, "vif-1")
                self.db.port_delete("t1", network.id, port.id)  # attached: refused
        # The refusal rolled the whole request back: no port, no configuration.
        self.assertEqual(self.db.port_list("t1", network.id), [])
        self.assertEqual(self.db.port_configuration(port.id), {})
        with self.db.request(read_only=True) as session, self.db.request() as nested:
            self.assertIs(nested, session)  # a nested request joins the outer one
            self.assertEqual(self.db.network_get("t1", network.id).name, "net")

    def test_request_scope_is_one_transaction_from_its_first_call(self):
        network = self.db.network_create("t1", "net", "linuxbridge", {})
        with self.assertRaises(exceptions.PortInUse), self.db.request_scope():
            port = self.db.port_create("t1", network.id, "ACTIVE", {"k": "v"})
            self.db.attach("t1", network.id, port.id, "vif-1")
            with self.db.request() as transaction, self.db.request() as nested:
                self.assertIs(nested, transaction)  # the scope's, begun by its first call
            self.db.port_delete("t1", network.id, port.id)  # attached: refused
        self.assertEqual(self.db.port_list("t1", network.id), [])
        self.assertEqual(self.db.port_configuration(port.id), {})
        with self.db.request_scope():
            port = self.db.port_create("t1", network.id, "DOWN", {})
        self.assertEqual([found.id for found in self.db.port_list("t1", network.id)], [port.id])

    def test_rows_come_back_typed(self):
        network = self.db.network_create("t1", "net", "tap", {"a": "1"})
        port = self.db.port_create("t1", network.id, "DOWN", {})
        self.db.attach("t1", network.id, port.id, "vif-1")
        with self.db.request(read_only=True):
            (listed,) = self.db.network_list("t1")
            got_port, got_network = self.db.port_get_with_network("t1", network.id, port.id)
            (detailed,) = self.db.network_list_with_configuration("t1")
        self.assertIsInstance(listed, db_api.Network)
        self.assertIsInstance(got_port, db_api.Port)
        self.assertEqual(detailed, (listed, {"a": "1"}))
        self.assertEqual(got_network, listed)
        self.assertIsInstance(listed.created_at, datetime.datetime)
        self.assertIsInstance(got_port.created_at, datetime.datetime)
        # Stored as written, to the second (MariaDB's DATETIME keeps no microseconds).
        second = datetime.timedelta(seconds=1)
        self.assertLess(abs(listed.created_at - network.created_at), second)
        self.assertLess(abs(got_port.created_at - port.created_at), second)
        self.assertEqual(got_port[:5], (port.id, network.id, "DOWN", "UP", "vif-1"))

    def test_update_sets_and_drops_configuration_keys(self):
        network = self.db.network_create("t1", "net", "tap", {"a": "1", "b": "2"})
        self.db.network_update(
            "t1", network.id, name="n2", configuration={"a": "9", "b": None, "c": "3", "d": None}
        )
        self.assertEqual(self.db.network_configuration(network.id), {"a": "9", "c": "3"})
        self.db.network_update("t1", network.id, plugin="openvswitch")
        changed = self.db.network_get("t1", network.id)
        self.assertEqual((changed.name, changed.plugin), ("n2", "openvswitch"))
        port = self.db.port_create("t1", network.id, "DOWN", {"x": "1"})
        self.db.port_update("t1", network.id, port.id, state="ACTIVE", configuration={"x": None})
        self.assertEqual(self.db.port_get("t1", network.id, port.id).state, "ACTIVE")
        self.assertEqual(self.db.port_configuration(port.id), {})

    def test_unreachable_database_is_service_unavailable(self):
        if self.BACKEND == "sqlite":
            self.skipTest("a SQLite database has no server to lose")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            closed_port = probe.getsockname()[1]
        url = sa.make_url(self.db_url).set(host="127.0.0.1", port=closed_port)
        engine = servicekit_db.create_engine(url.render_as_string(hide_password=False))
        self.addCleanup(engine.dispose)
        db = db_api.QuantumDatabase(engine)
        with self.assertRaises(exceptions.ServiceUnavailable):
            db.network_list("t1")
        with self.assertRaises(exceptions.ServiceUnavailable), db.request_scope():
            db.port_create("t1", "net", "DOWN", {})
