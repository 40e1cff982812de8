"""servicekit.db: engines per backend, SQLite's transaction modes and writer lock, errors."""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import tempfile
import threading
import unittest

import sqlalchemy as sa
from oslo_db import exception as db_exc

from servicekit import db

JOIN_TIMEOUT = 10  # seconds a test waits for its threads before failing


class SQLiteEngineTestCase(unittest.TestCase):
    def setUp(self) -> None:
        directory = tempfile.mkdtemp(prefix="servicekit-db-")
        self.addCleanup(shutil.rmtree, directory, ignore_errors=True)
        self.path = os.path.join(directory, "test.sqlite")
        self.url = f"sqlite:///{self.path}"

    def engine(self, **kwargs) -> sa.Engine:
        engine = db.create_engine(self.url, **kwargs)
        self.addCleanup(engine.dispose)
        return engine

    def pragma(self, engine: sa.Engine, name: str):
        with engine.connect() as connection:
            return connection.exec_driver_sql(f"PRAGMA {name}").scalar()

    def join(self, *threads: threading.Thread) -> None:
        for thread in threads:
            thread.join(timeout=JOIN_TIMEOUT)
            self.assertFalse(thread.is_alive(), "a thread is stuck")

    def test_wal_with_the_sync_level_asked_for(self):
        self.assertEqual(self.pragma(self.engine(), "journal_mode"), "wal")
        self.assertEqual(self.pragma(self.engine(), "synchronous"), 2)  # FULL
        self.assertEqual(self.pragma(self.engine(sqlite_synchronous="normal"), "synchronous"), 1)
        with self.assertRaises(db.EngineError):
            self.engine(sqlite_synchronous="OFF; DROP TABLE x")

    def test_bad_url_or_driver(self):
        with self.assertRaises(db.EngineError):
            db.create_engine("not a url")
        with self.assertRaises(db.EngineError):
            db.create_engine("nosuchdb://host/db")

    def test_no_connection_event_listener(self):
        # Any would put every statement on SQLAlchemy's slow path (module doc).
        engine = self.engine()
        self.assertFalse(engine._has_events)
        with db.writing(engine) as connection:
            self.assertFalse(connection._has_events)

    def test_writing_commits_and_rolls_back(self):
        engine = self.engine()
        with db.writing(engine) as connection:
            connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        with self.assertRaises(RuntimeError):
            with db.writing(engine) as connection:
                connection.exec_driver_sql("INSERT INTO t VALUES (1)")
                raise RuntimeError("rolls back")
        with db.writing(engine) as connection:
            connection.exec_driver_sql("INSERT INTO t VALUES (2)")
        with db.reading(engine) as connection:
            self.assertEqual(connection.exec_driver_sql("SELECT x FROM t").all(), [(2,)])

    def test_begin_explicitly_makes_ddl_transactional(self):
        engine = self.engine()
        with engine.connect() as connection:
            db.begin_explicitly(connection)
            connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
            connection.rollback()
            self.assertEqual(sa.inspect(connection).get_table_names(), [])

    def test_writers_of_one_process_take_turns(self):
        engine = self.engine()
        inside, overlaps = [], []

        def write() -> None:
            for _ in range(20):
                with db.writing(engine):
                    inside.append(1)
                    overlaps.append(len(inside))
                    inside.pop()

        threads = [threading.Thread(target=write) for _ in range(4)]
        for thread in threads:
            thread.start()
        self.join(*threads)
        self.assertEqual(max(overlaps), 1)
        self.assertEqual(len(overlaps), 80)

    def test_readers_and_other_backends_take_no_lock(self):
        engine = self.engine()
        with db.writing(engine), db.reading(engine):
            pass  # a reader inside a writer: no deadlock
        other = sa.create_engine("sqlite://")  # not made by create_engine: no lock
        self.addCleanup(other.dispose)
        with db.writing(other), db.writing(other):
            pass

    def test_lock_not_got_in_the_busy_timeout_is_a_deadlock_and_unavailable(self):
        engine = self.engine(max_write_wait=0)
        with db.writing(engine):
            errors: list[BaseException] = []

            def write() -> None:
                try:
                    with db.writing(engine):
                        pass
                except Exception as exc:  # noqa: BLE001 - examined below
                    errors.append(exc)

            thread = threading.Thread(target=write)
            thread.start()
            self.join(thread)
        (error,) = errors
        self.assertIsInstance(error, db_exc.DBDeadlock)
        self.assertIsInstance(error.inner_exception, sa.exc.OperationalError)
        self.assertTrue(db.unavailable(error))

    def test_reading_never_waits_for_a_writer(self):
        engine = self.engine(max_write_wait=0)
        with db.writing(engine) as connection:
            connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        locker = sqlite3.connect(self.path, isolation_level=None)
        self.addCleanup(locker.close)
        locker.execute("BEGIN IMMEDIATE")
        try:
            with db.reading(engine) as connection:
                self.assertEqual(connection.exec_driver_sql("SELECT x FROM t").all(), [])
        finally:
            locker.execute("ROLLBACK")

    def test_duplicates_and_references_are_oslo_db_errors(self):
        engine = self.engine()
        with db.writing(engine) as connection:
            connection.exec_driver_sql("CREATE TABLE p (id INTEGER PRIMARY KEY)")
            connection.exec_driver_sql("CREATE TABLE c (p_id INTEGER REFERENCES p (id))")
            connection.exec_driver_sql("INSERT INTO p VALUES (1)")
        with self.assertRaises(db_exc.DBDuplicateEntry):
            with db.writing(engine) as connection:
                connection.exec_driver_sql("INSERT INTO p VALUES (1)")
        with self.assertRaises(db_exc.DBReferenceError):
            with db.writing(engine) as connection:
                connection.exec_driver_sql("INSERT INTO c VALUES (2)")

    def test_other_errors_stay_sqlalchemys(self):
        engine = self.engine()
        with self.assertLogs("oslo_db", "DEBUG") as logged:
            logging.getLogger("oslo_db").debug("something to capture")
            with self.assertRaises(sa.exc.OperationalError):
                with db.reading(engine) as connection:
                    connection.exec_driver_sql("SELECT * FROM missing")
        self.assertEqual(len(logged.records), 1)  # no "exception wrapped" warning

    def test_untranslated_engine_raises_sqlalchemy_errors(self):
        engine = self.engine(translate_errors=False)
        with self.assertRaises(sa.exc.OperationalError):
            with db.reading(engine) as connection:
                connection.exec_driver_sql("SELECT * FROM missing")

    def test_unreachable_database_is_a_connection_error(self):
        # A directory: SQLite cannot open it.
        engine = db.create_engine(f"sqlite:///{os.path.dirname(self.path)}", pooled=False)
        self.addCleanup(engine.dispose)
        with self.assertRaises(db_exc.DBConnectionError) as caught:
            with db.reading(engine):
                pass
        self.assertTrue(db.unavailable(caught.exception))

    def test_safe_url_hides_the_password(self):
        self.assertEqual(
            db.safe_url("postgresql://nova:secret@db/nova"), "postgresql://nova:***@db/nova"
        )
        self.assertFalse(db.unavailable(ValueError("not a database error")))
