"""servicekit.db: a writer waits ``max_write_wait`` in all, then fails as unavailable (503);
a full disk is unavailable too (issue 14, item 5)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import threading
import time
import unittest

import sqlalchemy as sa
from oslo_db import exception as db_exc

from servicekit import db

BOUND = 1.0
MARGIN = 0.5  # scheduling on a loaded machine


class WriteBoundTestCase(unittest.TestCase):
    def setUp(self) -> None:
        directory = tempfile.mkdtemp(prefix="servicekit-bound-")
        self.addCleanup(shutil.rmtree, directory, ignore_errors=True)
        self.path = os.path.join(directory, "test.sqlite")
        self.engine = db.create_engine(f"sqlite:///{self.path}", max_write_wait=BOUND)
        self.addCleanup(self.engine.dispose)
        with db.writing(self.engine) as connection:
            connection.exec_driver_sql("CREATE TABLE t (x TEXT)")

    def other_process_lock(self) -> sqlite3.Connection:
        """Hold the write lock as another process would (its own connection, BEGIN IMMEDIATE)."""
        locker = sqlite3.connect(self.path, isolation_level=None)
        self.addCleanup(locker.close)
        locker.execute("BEGIN IMMEDIATE")
        return locker

    def timed_write(self) -> tuple[float, BaseException | None]:
        started = time.monotonic()
        try:
            with db.writing(self.engine) as connection:
                connection.exec_driver_sql("INSERT INTO t VALUES ('w')")
        except Exception as exc:  # noqa: BLE001 - returned to the test
            return time.monotonic() - started, exc
        return time.monotonic() - started, None

    def test_a_writer_waits_the_bound_for_another_process_then_is_unavailable(self):
        locker = self.other_process_lock()
        took, error = self.timed_write()
        self.assertIsInstance(error, db_exc.DBDeadlock)
        self.assertTrue(db.unavailable(error))
        self.assertGreaterEqual(took, BOUND * 0.9)
        self.assertLess(took, BOUND + MARGIN)
        locker.execute("ROLLBACK")
        self.assertEqual(self.timed_write()[1], None)

    def test_writers_queued_in_this_process_share_one_bound(self):
        """The second writer waits for the first's process lock and SQLite's: BOUND in all."""
        locker = self.other_process_lock()
        results: list[tuple[float, BaseException | None]] = []
        threads = [
            threading.Thread(target=lambda: results.append(self.timed_write())) for _ in range(3)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=10)
            self.assertFalse(thread.is_alive())
        locker.execute("ROLLBACK")
        self.assertEqual(len(results), 3)
        for took, error in results:
            self.assertTrue(db.unavailable(error), error)
            self.assertLess(took, BOUND + MARGIN)
        # The pooled connections' busy timeout is the whole bound again.
        connections = [self.engine.connect() for _ in range(3)]
        for connection in connections:
            timeout = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
            connection.close()
            self.assertEqual(timeout, int(BOUND * 1000))
        self.assertEqual(self.timed_write()[1], None)

    def test_readers_never_wait_for_the_writer(self):
        locker = self.other_process_lock()
        locker.execute("INSERT INTO t VALUES ('uncommitted')")
        started = time.monotonic()
        with db.reading(self.engine) as connection:
            rows = connection.exec_driver_sql("SELECT x FROM t").all()
        self.assertEqual(rows, [])
        self.assertLess(time.monotonic() - started, BOUND / 2)

    def test_a_full_disk_is_unavailable(self):
        # SQLite's "database or disk is full": a page count it may not grow past.
        with db.writing(self.engine) as connection:
            pages = connection.exec_driver_sql("PRAGMA page_count").scalar()
            connection.exec_driver_sql(f"PRAGMA max_page_count = {pages}")
        with self.assertRaises(sa.exc.OperationalError) as caught:
            with db.writing(self.engine) as connection:
                connection.exec_driver_sql("INSERT INTO t VALUES (?)", ("x" * 100_000,))
        self.assertIn("full", str(caught.exception))
        self.assertTrue(db.unavailable(caught.exception))

    def test_other_errors_are_not_unavailable(self):
        with self.assertRaises(sa.exc.OperationalError) as caught:
            with db.writing(self.engine) as connection:
                connection.exec_driver_sql("INSERT INTO nosuchtable VALUES (1)")
        self.assertFalse(db.unavailable(caught.exception))

    def test_postgresql_and_mysql_out_of_room_are_unavailable(self):
        class PgDiskFull(Exception):
            sqlstate = "53100"

        class MySQLTableFull(Exception):
            pass

        for driver_error in (PgDiskFull("could not extend file"), MySQLTableFull(1114, "full")):
            with self.subTest(type(driver_error).__name__):
                error = sa.exc.OperationalError("INSERT", {}, driver_error)
                self.assertTrue(db.unavailable(error))
                self.assertTrue(db.unavailable(db_exc.DBError(error)))


if __name__ == "__main__":
    unittest.main()
