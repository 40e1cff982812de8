"""Migrations on SQLite, plus what only SQLite needs (batch-mode leftovers)."""

from __future__ import annotations

import sqlalchemy as sa

from nova import exception
from nova.db import migration
from tests.fixtures import migration_checks


class TestMigrationsSQLite(migration_checks.MigrationChecks):
    __test__ = True
    BACKEND = "sqlite"

    def test_leftover_batch_table_is_removed_before_retrying(self):
        self.sync(3)
        # What an interrupted batch rebuild of virtual_interfaces leaves behind.
        self.execute("CREATE TABLE _alembic_tmp_virtual_interfaces (id INTEGER PRIMARY KEY)")

        result = self.sync()

        self.assertEqual(result.end, migration.head_version())
        self.assertIn("Removed _alembic_tmp_virtual_interfaces", " ".join(result.notes))
        self.assertNotIn("_alembic_tmp_virtual_interfaces", self.snapshot())

    def test_leftover_without_its_original_is_not_dropped(self):
        self.sync(3)
        self.execute("ALTER TABLE virtual_interfaces RENAME TO _alembic_tmp_virtual_interfaces")
        with self.assertRaisesRegex(exception.DBMigrationError, "rename"):
            self.sync()
        self.assertIn("_alembic_tmp_virtual_interfaces", self.snapshot())

    def test_database_without_version_table_is_placed_under_version_control(self):
        self.sync(3)
        self.execute("DROP TABLE alembic_version")

        self.assertEqual(migration.db_version(url=self.db_url), 3)
        self.assertEqual(self.rows("SELECT version_num FROM alembic_version"), [("003",)])

    def test_failed_revision_rolls_back_completely(self):
        self.sync(2)
        self.add_network(1, vlan=100)
        self.add_instance(1)
        self.execute(
            "INSERT INTO virtual_interfaces (address, network_id, instance_id, deleted) "
            "VALUES ('fa:16:3e:00:00:01', 1, 1, 0)"
        )
        before = self.snapshot()
        # Make the uuid back-fill of revision 003 fail half-way through.
        self.execute(
            "CREATE TRIGGER fail_backfill BEFORE UPDATE ON virtual_interfaces "
            "BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
        )

        with self.assertRaisesRegex(sa.exc.DBAPIError, "injected failure"):
            self.sync(3)

        self.assertEqual(migration.db_version(url=self.db_url), 2)
        self.assertEqual(before, self.snapshot())
        self.execute("DROP TRIGGER fail_backfill")
        self.assertEqual(self.sync().end, migration.head_version())

    def test_each_revision_commits_on_its_own(self):
        self.sync(2)
        # Fail 004 at its very end, when Alembic records the new version.
        self.execute(
            "CREATE TRIGGER fail_004 BEFORE UPDATE ON alembic_version "
            "WHEN NEW.version_num = '004' BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
        )
        with self.assertRaisesRegex(sa.exc.DBAPIError, "injected failure"):
            self.sync()

        # 003 stayed; 004's table rebuild was rolled back with it.
        self.assertEqual(migration.db_version(url=self.db_url), 3)
        columns = dict((c[0], c[1]) for c in self.snapshot()["virtual_interfaces"]["columns"])
        self.assertIn("uuid", columns)
        self.assertFalse(columns["network_id"])
        self.assertNotIn("_alembic_tmp_virtual_interfaces", self.snapshot())
