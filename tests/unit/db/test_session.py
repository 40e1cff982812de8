"""The data API's engine and transactions: typed rows, oslo.db's errors, statement logging."""

from __future__ import annotations

import datetime
import logging
import sqlite3

import sqlalchemy as sa
from oslo_db import exception as db_exc

import nova.conf
from nova import context as nova_context
from nova.db import instances as instance_db
from nova.db import models
from nova.db import session as db_session
from tests.fixtures import databases

_instances = models.Instance.__table__


class SessionTestCase(databases.SchemaTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.context = nova_context.RequestContext("alice", "project-a")
        self.instance = instance_db.instance_create(
            self.context, {"project_id": "project-a", "display_name": "vm1"}
        )

    def test_rows_are_typed(self):
        statement = sa.select(_instances.c.uuid, _instances.c.created_at).where(
            _instances.c.display_name == sa.bindparam("name")
        )
        with db_session.reader(self.context) as conn:
            ((uuid, created_at),) = conn.execute(statement, {"name": "vm1"}).all()
            none = conn.execute(statement, {"name": "vm2"}).all()
        self.assertEqual(uuid, self.instance.uuid)
        self.assertIsInstance(created_at, datetime.datetime)  # SQLite stores text
        self.assertEqual(none, [])
        # The record instance_create returned is the row as stored.
        stored = instance_db.instance_get_by_uuid(self.context, self.instance.uuid)
        self.assertEqual(stored, self.instance._replace(created_at=stored.created_at))
        self.assertAlmostEqual(
            stored.created_at, self.instance.created_at, delta=datetime.timedelta(seconds=1)
        )

    def test_duplicate_is_an_oslo_db_error_wrapping_sqlalchemys(self):
        with self.assertRaises(db_exc.DBDuplicateEntry) as caught:
            instance_db.instance_create(self.context, {"uuid": self.instance.uuid})
        self.assertIsInstance(caught.exception.inner_exception, sa.exc.IntegrityError)

    def test_writer_rolls_back_on_error(self):
        with self.assertRaises(RuntimeError):
            with db_session.writer(self.context) as conn:
                conn.execute(sa.update(_instances).values(display_name="changed"))
                raise RuntimeError("rolls back")
        stored = instance_db.instance_get_by_uuid(self.context, self.instance.uuid)
        self.assertEqual(stored.display_name, "vm1")

    def test_dropped_connection_is_invalidated(self):
        if self.BACKEND == "sqlite":
            self.skipTest("SQLite has no server connection to drop")
        if self.BACKEND == "postgresql":
            own_id, kill = "SELECT pg_backend_pid()", "SELECT pg_terminate_backend({})"
        else:
            own_id, kill = "SELECT CONNECTION_ID()", "KILL {}"
        with self.assertRaises(db_exc.DBConnectionError) as caught:
            with db_session.reader(self.context) as conn:
                backend = int(conn.exec_driver_sql(own_id).scalar_one())
                with db_session.get_engine().connect() as killer:
                    killer.exec_driver_sql(kill.format(backend))
                    killer.commit()
                try:
                    conn.exec_driver_sql("SELECT 1")
                finally:
                    self.assertTrue(conn.invalidated)
        self.assertTrue(caught.exception.inner_exception.connection_invalidated)
        # The next transaction gets a new connection.
        found = instance_db.instance_get_by_uuid(self.context, self.instance.uuid)
        self.assertEqual(found.id, self.instance.id)

    def test_locked_database_is_a_deadlock(self):
        if self.BACKEND != "sqlite":
            self.skipTest("locks the SQLite file")
        nova.conf.CONF.set_override("max_write_wait", 0, group="database")
        self.addCleanup(nova.conf.CONF.clear_override, "max_write_wait", group="database")
        db_session.dispose_engine()
        # An exclusive lock keeps even readers out.
        locker = sqlite3.connect(self.db_url.removeprefix("sqlite:///"), isolation_level=None)
        self.addCleanup(locker.close)
        locker.execute("PRAGMA journal_mode = DELETE")
        locker.execute("BEGIN EXCLUSIVE")
        try:
            with self.assertRaises(db_exc.DBDeadlock) as caught:
                instance_db.instance_get_by_uuid(self.context, self.instance.uuid)
            self.assertIsInstance(caught.exception.inner_exception, sa.exc.OperationalError)
        finally:
            locker.execute("ROLLBACK")


class KeptConnectionTestCase(databases.SchemaTestCase):
    """On SQLite a thread's transactions share the connection it keeps (session module doc)."""

    def test_transactions_share_the_kept_connection_unless_nested(self):
        context = nova_context.get_admin_context()
        with db_session.writer(context) as outer:
            with db_session.reader(context, single_statement=True) as inner:
                self.assertIsNot(inner, outer)  # nested: a pooled one
                # The writer's uncommitted row is not the reader's to see.
                outer.execute(sa.insert(_instances), {"uuid": "u-1", "deleted": 0})
                found = inner.scalar(sa.select(_instances.c.id).where(_instances.c.uuid == "u-1"))
                self.assertIsNone(found)
        with db_session.reader(context) as first:
            pass
        with db_session.writer(context) as second:
            self.assertIs(second, first)
            self.assertIs(second, outer)

    def test_a_failed_transaction_gives_the_connection_back(self):
        context = nova_context.get_admin_context()
        with db_session.reader(context) as kept:
            pass
        with self.assertRaises(db_exc.DBDuplicateEntry):
            with db_session.writer(context) as conn:
                conn.execute(sa.insert(_instances), [{"uuid": "u-2", "deleted": 0}] * 2)
        self.assertTrue(kept.closed)
        with db_session.reader(context, single_statement=True) as fresh:
            self.assertIsNot(fresh, kept)
            self.assertEqual(fresh.scalar(sa.select(sa.func.count()).select_from(_instances)), 0)


class ConnectionDebugTestCase(databases.SchemaTestCase):
    def _statements_logged(self, function) -> list[str]:
        """Return what ``sqlalchemy.engine`` logs while ``function`` runs, at the level it has."""
        records: list[str] = []
        handler = logging.Handler()
        handler.emit = lambda record: records.append(record.getMessage())
        logger = logging.getLogger("sqlalchemy.engine")
        logger.addHandler(handler)
        try:
            function()
        finally:
            logger.removeHandler(handler)
        return records

    def test_connection_debug_logs_every_statement(self):
        engine_logger = logging.getLogger("sqlalchemy.engine")
        self.addCleanup(engine_logger.setLevel, engine_logger.level)
        context = nova_context.RequestContext("alice", "project-a")
        instance = instance_db.instance_create(context, {"project_id": "project-a"})
        quiet = self._statements_logged(
            lambda: instance_db.instance_get_by_uuid(context, instance.uuid)
        )
        self.assertEqual(quiet, [])

        nova.conf.CONF.set_override("connection_debug", True, group="database")
        self.addCleanup(nova.conf.CONF.clear_override, "connection_debug", group="database")
        db_session.dispose_engine()
        logged = self._statements_logged(
            lambda: instance_db.instance_create(context, {"project_id": "project-a"})
        )
        self.assertTrue(any("INSERT INTO instances" in line for line in logged), logged)
        logged = self._statements_logged(
            lambda: instance_db.instance_get_by_uuid(context, instance.uuid)
        )
        self.assertTrue(any("FROM instances" in line for line in logged), logged)
        # Once each: no handler of SQLAlchemy's own beside the service's.
        for name in ("sqlalchemy.engine", "sqlalchemy.engine.Engine"):
            self.assertEqual(logging.getLogger(name).handlers, [], name)
