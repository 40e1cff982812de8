"""``nova-manage db`` end to end, in a subprocess, as an operator runs it."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import uuid

import sqlalchemy as sa

from nova.db import migration
from tests.fixtures import databases


def nova_manage_command() -> list[str]:
    """Return the installed console script, or the module when not installed."""
    script = os.path.join(os.path.dirname(sys.executable), "nova-manage")
    if os.path.exists(script):
        return [script]
    return [sys.executable, "-m", "nova.cmd.manage"]


class NovaManageChecks(databases.DatabaseTestCase):
    __test__ = False

    def setUp(self) -> None:
        super().setUp()
        self.config_file = self.write_config(self.db_url)

    def write_config(self, url: str) -> str:
        handle = tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False)
        with handle:
            handle.write(f"[DEFAULT]\nstate_path = {tempfile.gettempdir()}\n")
            handle.write(f"[database]\nconnection = {url}\n")
        self.addCleanup(os.unlink, handle.name)
        return handle.name

    def nova_manage(self, *args: str, config_file: str | None = None):
        return subprocess.run(
            [*nova_manage_command(), "--config-file", config_file or self.config_file, *args],
            capture_output=True,
            text=True,
            timeout=120,
        )

    def assert_one_error_line(self, result, pattern: str) -> None:
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertNotIn("Traceback", result.stderr)
        lines = result.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, result.stderr)
        self.assertRegex(lines[0], f"^ERROR: {pattern}")

    def test_sync_version_and_idempotence(self):
        head = migration.head_version()
        self.assertEqual(self.nova_manage("db", "version").stdout, "0\n")

        first = self.nova_manage("db", "sync")
        self.assertEqual(first.returncode, 0, first.stderr)
        self.assertIn("upgraded 0 -> 1: Initial schema", first.stdout)
        self.assertIn("upgraded 3 -> 4: Network refactoring", first.stdout)
        self.assertIn(f"Database is at version {head} (was 0).", first.stdout)

        version = self.nova_manage("db", "version")
        self.assertEqual((version.returncode, version.stdout), (0, f"{head}\n"))

        again = self.nova_manage("db", "sync")
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertEqual(again.stdout, f"Database already at version {head}; nothing to do.\n")

        down = self.nova_manage("db", "sync", "--version", "3")
        self.assertEqual(down.returncode, 0, down.stderr)
        self.assertIn("downgraded 4 -> 3", down.stdout)
        self.assertEqual(self.nova_manage("db", "version").stdout, "3\n")

    def test_downgrade_refused_with_data_present(self):
        self.assertEqual(self.nova_manage("db", "sync").returncode, 0)
        engine = sa.create_engine(self.db_url)
        self.addCleanup(engine.dispose)
        with engine.begin() as connection:
            connection.execute(
                sa.text("INSERT INTO instances (uuid, deleted) VALUES (:uuid, 0)"),
                {"uuid": str(uuid.uuid4())},
            )
            connection.execute(
                sa.text(
                    "INSERT INTO virtual_interfaces (uuid, address, instance_id, "
                    "preserve_on_delete, deleted) SELECT :uuid, 'fa:16:3e:00:00:01', id, "
                    ":preserve, 0 FROM instances"
                ),
                {"uuid": str(uuid.uuid4()), "preserve": False},
            )

        refused = self.nova_manage("db", "sync", "--version", "3")

        self.assert_one_error_line(refused, r"Downgrade to version 3 refused: 1 virtual interface")
        self.assertEqual(self.nova_manage("db", "version").stdout, f"{migration.head_version()}\n")

    def test_unknown_version_is_refused(self):
        result = self.nova_manage("db", "sync", "--version", "99")
        self.assert_one_error_line(result, r"Unknown database version 99")
        self.assertEqual(self.nova_manage("db", "version").stdout, "0\n")


class TestNovaManageSQLite(NovaManageChecks):
    __test__ = True
    BACKEND = "sqlite"

    def test_unreachable_database(self):
        config = self.write_config("postgresql+psycopg://nova:secret@127.0.0.1:1/nova")
        result = self.nova_manage("db", "sync", config_file=config)
        self.assert_one_error_line(
            result, r"Cannot connect to the database postgresql\+psycopg://nova:\*\*\*@127"
        )
        self.assertNotIn("secret", result.stderr)

    def test_malformed_url(self):
        config = self.write_config("this is not a url")
        self.assert_one_error_line(
            self.nova_manage("db", "version", config_file=config), "Cannot connect.*invalid URL"
        )

    def test_unknown_driver(self):
        config = self.write_config("nosuchdb://host/nova")
        self.assert_one_error_line(
            self.nova_manage("db", "version", config_file=config), "Cannot connect.*nosuchdb"
        )

    def test_missing_config_file(self):
        result = self.nova_manage("db", "version", config_file="/nonexistent/nova.conf")
        self.assert_one_error_line(result, "Failed to find some config files")
