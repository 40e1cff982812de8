"""Quantum's schema and data API on SQLite."""

from __future__ import annotations

import sqlite3

from quantum import exceptions
from quantum.db import api as db_api
from servicekit import db as servicekit_db
from tests.fixtures import quantum_db_checks


class TestQuantumDatabaseSQLite(quantum_db_checks.QuantumDatabaseChecks):
    __test__ = True
    BACKEND = "sqlite"

    def hold_write_lock(self) -> None:
        """Take the database's write lock in another connection; calls stop waiting for it."""
        self.engine.dispose()
        self.engine = servicekit_db.create_engine(self.db_url, max_write_wait=0)
        self.addCleanup(self.engine.dispose)
        self.db = db_api.QuantumDatabase(self.engine)
        writer = sqlite3.connect(self.db_url.removeprefix("sqlite:///"), isolation_level=None)
        self.addCleanup(writer.close)
        writer.execute("BEGIN IMMEDIATE")  # holds the write lock until rollback
        self.addCleanup(writer.execute, "ROLLBACK")

    def test_read_only_request_does_not_wait_for_a_writer(self):
        network = self.db.network_create("t1", "net", "linuxbridge", {})
        self.hold_write_lock()
        with self.db.request(read_only=True):
            self.assertEqual(self.db.network_get("t1", network.id).name, "net")
        with self.assertRaises(exceptions.ServiceUnavailable), self.db.request():
            self.db.network_get("t1", network.id)

    def test_request_scope_takes_the_write_lock_at_its_first_call(self):
        network = self.db.network_create("t1", "net", "linuxbridge", {})
        self.hold_write_lock()
        with self.db.request_scope():
            pass  # no call: no transaction, nothing to wait for
        with self.assertRaises(exceptions.ServiceUnavailable), self.db.request_scope():
            self.db.network_get("t1", network.id)  # begins IMMEDIATE: locked
