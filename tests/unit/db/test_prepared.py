"""Prepared reads: compiled once, typed results, SQLAlchemy's errors, refused when unsafe."""

from __future__ import annotations

import datetime
import sqlite3

import sqlalchemy as sa

import nova.conf
from nova import context as nova_context
from nova.db import api as db_api
from nova.db import models
from nova.db import prepared
from tests.fixtures import databases

_instances = models.Instance.__table__


class PreparedReadTestCase(databases.SchemaTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.context = nova_context.RequestContext("alice", "project-a")
        self.instance = db_api.instance_create(
            self.context, {"project_id": "project-a", "display_name": "vm1", "vm_state": "error"}
        )
        self.read = prepared.Prepared(
            sa.select(_instances.c.uuid, _instances.c.created_at).where(
                _instances.c.display_name == sa.bindparam("name"),
                _instances.c.vm_state == "error",  # a value written into the statement
            )
        )

    def test_rows_are_typed_and_constants_bound(self):
        with prepared.reading(db_api.get_engine()) as reader:
            rows = self.read.rows(reader, {"name": "vm1"})
            none = self.read.rows(reader, {"name": "vm2"})
        ((uuid, created_at),) = rows
        self.assertEqual(uuid, self.instance.uuid)
        self.assertIsInstance(created_at, datetime.datetime)  # SQLite stores text
        stored = db_api.instance_get_by_uuid(self.context, self.instance.uuid)
        self.assertEqual(created_at, stored.created_at)
        self.assertEqual(none, [])

    def test_late_rendered_parameters_are_refused(self):
        read = prepared.Prepared(
            sa.select(_instances.c.id).where(
                _instances.c.id.in_(sa.bindparam("ids", expanding=True))
            )
        )
        with prepared.reading(db_api.get_engine()) as reader:
            with self.assertRaises(ValueError):
                read.rows(reader, {"ids": [1]})

    def test_driver_errors_come_out_as_sqlalchemy_errors(self):
        if self.BACKEND != "sqlite":
            self.skipTest("locks the SQLite file")
        nova.conf.CONF.set_override("sqlite_busy_timeout", 0, group="database")
        self.addCleanup(nova.conf.CONF.clear_override, "sqlite_busy_timeout", group="database")
        db_api.dispose_engine()
        # An exclusive lock keeps even readers out.
        locker = sqlite3.connect(self.db_url.removeprefix("sqlite:///"), isolation_level=None)
        self.addCleanup(locker.close)
        locker.execute("PRAGMA journal_mode = DELETE")
        locker.execute("BEGIN EXCLUSIVE")
        try:
            with self.assertRaises(sa.exc.OperationalError) as caught:
                with prepared.reading(db_api.get_engine()) as reader:
                    self.read.rows(reader, {"name": "vm1"})
            self.assertIn("locked", str(caught.exception))
        finally:
            locker.execute("ROLLBACK")
