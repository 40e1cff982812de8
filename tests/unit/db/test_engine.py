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

        threads = [threading.Thread(target=write) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(max(overlaps), 1)
        self.assertEqual(len(overlaps), 80)

    def test_readers_and_other_backends_take_no_lock(self):
        engine = self.engine()
        with db_engine.writing(engine), db_engine.writing(engine, write=False):
            pass  # a reader inside a writer: no deadlock
        other = sa.create_engine("sqlite://")  # not made by create_engine: no lock
        with db_engine.writing(other), db_engine.writing(other):
            pass

    def test_lock_not_got_in_the_busy_timeout_is_left_to_sqlite(self):
        engine = self.engine(sqlite_busy_timeout=0)
        with db_engine.writing(engine):
            done = threading.Event()

            def write() -> None:
                with db_engine.writing(engine):
                    done.set()

            thread = threading.Thread(target=write)
            thread.start()
            thread.join(timeout=5)
        self.assertTrue(done.is_set())
