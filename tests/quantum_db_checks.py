"""Quantum's schema and data API on a given database backend."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from nova.db import engine as db_engine
from quantum import exceptions
from quantum.db import api as db_api
from quantum.db import migration
from quantum.db import models
from tests import databases


class QuantumDatabaseChecks(databases.DatabaseTestCase):
    __test__ = False

    def setUp(self) -> None:
        super().setUp()
        self.engine = db_engine.create_engine(self.db_url)
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
