"""Engines per backend: SQLite's transaction modes, sync level and writer lock."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import unittest

import sqlalchemy as sa

from nova import exception
from nova.db import engine as db_engine

# Seconds a thread of these tests may take: a lock that is never released
# fails the test instead of hanging the run.
JOIN_TIMEOUT = 10


def run_threads(test: unittest.TestCase, target, count: int = 1) -> None:
    """Run ``target`` in ``count`` daemon threads; fail ``test`` if one hangs or raises."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            target()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=run, daemon=True) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=JOIN_TIMEOUT)
        test.assertFalse(thread.is_alive(), f"a thread still runs after {JOIN_TIMEOUT} s")
    if errors:
        raise errors[0]


class SQLiteEngineTestCase(unittest.TestCase):
    def setUp(self) -> None:
        directory = tempfile.mkdtemp(prefix="nova-engine-")
        self.addCleanup(shutil.rmtree, directory, ignore_errors=True)
        self.url = f"sqlite:///{os.path.join(directory, 'test.sqlite')}"

    def engine(self, **kwargs) -> sa.Engine:
        engine = db_engine.create_engine(self.url, **kwargs)
        self.addCleanup(engine.dispose)
        return engine

    def pragma(self, engine: sa.Engine, name: str):
        with engine.connect() as connection:
            return connection.exec_driver_sql(f"PRAGMA {name}").scalar()

    def test_wal_with_the_sync_level_asked_for(self):
        self.assertEqual(self.pragma(self.engine(), "journal_mode"), "wal")
        self.assertEqual(self.pragma(self.engine(), "synchronous"), 2)  # FULL
        self.assertEqual(self.pragma(self.engine(sqlite_synchronous="normal"), "synchronous"), 1)
        with self.assertRaises(exception.DBConnectionError):
            self.engine(sqlite_synchronous="OFF; DROP TABLE x")

    def test_writers_of_one_process_take_turns(self):
        engine = self.engine()
        inside, overlaps = [], []

        def write() -> None:
            for _ in range(20):
                with db_engine.writing(engine):
                    inside.append(1)
                    overlaps.append(len(inside))
                    inside.pop()

        run_threads(self, write, count=4)
        self.assertEqual(max(overlaps), 1)
        self.assertEqual(len(overlaps), 80)

    def test_readers_and_other_backends_take_no_lock(self):
        engine = self.engine()
        other = sa.create_engine("sqlite://")  # not made by create_engine: no lock
        self.addCleanup(other.dispose)
        done = []

        def nest() -> None:
            with db_engine.writing(engine), db_engine.writing(engine, write=False):
                done.append("a reader inside a writer")
            with db_engine.writing(other), db_engine.writing(other):
                done.append("a writer inside a writer, on another backend")

        run_threads(self, nest)  # a deadlock fails here, after JOIN_TIMEOUT
        self.assertEqual(len(done), 2)

    def test_lock_not_got_in_the_busy_timeout_is_left_to_sqlite(self):
        engine = self.engine(sqlite_busy_timeout=0)
        with db_engine.writing(engine):
            done = threading.Event()

            def write() -> None:
                with db_engine.writing(engine):
                    done.set()

            thread = threading.Thread(target=write, daemon=True)
            thread.start()
            thread.join(timeout=5)
        self.assertTrue(done.is_set())
        thread.join(timeout=JOIN_TIMEOUT)
        self.assertFalse(thread.is_alive())
