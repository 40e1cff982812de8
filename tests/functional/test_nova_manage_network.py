"""``nova-manage network`` end to end, in a subprocess, as an operator runs it."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import uuid

import sqlalchemy as sa

from tests.fixtures import databases
from tests.functional import test_nova_manage

UUID_RE = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


class NovaManageNetworkChecks(databases.DatabaseTestCase):
    __test__ = False

    def setUp(self) -> None:
        super().setUp()
        handle = tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False)
        with handle:
            handle.write(f"[DEFAULT]\nstate_path = {tempfile.gettempdir()}\n")
            handle.write(f"[database]\nconnection = {self.db_url}\n")
        self.addCleanup(os.unlink, handle.name)
        self.config_file = handle.name
        self.engine = sa.create_engine(self.db_url)
        self.addCleanup(self.engine.dispose)
        synced = self.nova_manage("db", "sync")
        self.assertEqual(synced.returncode, 0, synced.stderr)

    def nova_manage(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*test_nova_manage.nova_manage_command(), "--config-file", self.config_file, *args],
            capture_output=True,
            text=True,
            timeout=120,
        )

    def create(self, label: str, cidr: str, *options: str) -> subprocess.CompletedProcess:
        return self.nova_manage(
            "network", "create", "--label", label, "--fixed_range_v4", cidr, *options
        )

    def create_ok(self, label: str, cidr: str, *options: str) -> str:
        """Create a network; return its uuid."""
        result = self.create(label, cidr, *options)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stderr, "")
        match = re.match(rf"^Created network ({UUID_RE}) \({re.escape(label)}\): ", result.stdout)
        self.assertIsNotNone(match, result.stdout)
        return match.group(1)

    def listed(self) -> list[list[str]]:
        """Run ``network list``; return its rows (header first) split into columns."""
        result = self.nova_manage("network", "list")
        self.assertEqual((result.returncode, result.stderr), (0, ""))
        return [line.split() for line in result.stdout.splitlines()]

    def fixed_ips(self) -> list[sa.Row]:
        with self.engine.connect() as connection:
            return connection.execute(
                sa.text(
                    "SELECT address, reserved, allocated, network_id FROM fixed_ips "
                    "WHERE deleted = 0 ORDER BY id"
                )
            ).all()

    def assert_one_error_line(self, result, pattern: str) -> None:
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertNotIn("Traceback", result.stderr)
        self.assertEqual(result.stdout, "")
        lines = result.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, result.stderr)
        self.assertRegex(lines[0], f"^ERROR: {pattern}")

    def test_create_list_delete(self):
        self.assertEqual(self.listed(), [["uuid", "label", "cidr", "bridge", "vlan", "project"]])

        flat = self.create_ok(
            "public",
            "10.0.0.0/24",
            "--bridge",
            "br100",
            "--bridge_interface",
            "eth0",
            "--dns1",
            "8.8.8.8",
        )
        vlan = self.create_ok(
            "tenant",
            "10.1.0.0/28",
            "--bridge",
            "br101",
            "--vlan",
            "101",
            "--project",
            "project-a",
            "--gateway",
            "10.1.0.14",
        )

        self.assertEqual(
            self.listed(),
            [
                ["uuid", "label", "cidr", "bridge", "vlan", "project"],
                [flat, "public", "10.0.0.0/24", "br100", "-", "-"],
                [vlan, "tenant", "10.1.0.0/28", "br101", "101", "project-a"],
            ],
        )
        rows = self.fixed_ips()
        self.assertEqual(len(rows), 256 + 16)
        self.assertEqual(
            [row.address for row in rows if row.reserved],
            ["10.0.0.0", "10.0.0.1", "10.0.0.255", "10.1.0.0", "10.1.0.14", "10.1.0.15"],
        )
        with self.engine.connect() as connection:
            network = connection.execute(
                sa.text(
                    "SELECT gateway, broadcast, netmask, dns1, bridge_interface, vlan, project_id "
                    "FROM networks WHERE uuid = :uuid"
                ),
                {"uuid": flat},
            ).one()
        self.assertEqual(
            tuple(network),
            ("10.0.0.1", "10.0.0.255", "255.255.255.0", "8.8.8.8", "eth0", None, None),
        )

        deleted = self.nova_manage("network", "delete", flat)
        self.assertEqual((deleted.returncode, deleted.stderr), (0, ""))
        self.assertEqual(deleted.stdout, f"Deleted network {flat}\n")
        self.assertEqual([row[0] for row in self.listed()[1:]], [vlan])
        self.assertEqual(len(self.fixed_ips()), 16)
        # The range is free again.
        self.create_ok("public-again", "10.0.0.0/24", "--bridge", "br100")

    def test_invalid_input_is_one_error_line_and_writes_nothing(self):
        existing = self.create_ok("base", "10.0.0.0/24", "--bridge", "br100", "--vlan", "100")
        before = (self.listed(), self.fixed_ips())
        cases = [
            (("10.0.0.300/24", "--bridge", "br1"), r"Invalid CIDR '10\.0\.0\.300/24'"),
            (("10.5.0.1/24", "--bridge", "br1"), r"Invalid CIDR .*has host bits set"),
            (("10.5.0.0/31", "--bridge", "br1"), r"Network 10\.5\.0\.0/31 is too small"),
            (
                ("10.0.0.128/25", "--bridge", "br1"),
                rf"Network 10\.0\.0\.128/25 overlaps .*{existing}",
            ),
            (
                ("10.5.0.0/24", "--bridge", "br1", "--vlan", "100"),
                rf"VLAN 100 is already .*{existing}",
            ),
            (("10.5.0.0/24", "--bridge", "br1", "--vlan", "abc"), r"Invalid VLAN 'abc'"),
            (("10.5.0.0/24", "--bridge", "br1", "--vlan", "4095"), r"Invalid VLAN 4095"),
            (("10.5.0.0/24", "--bridge", "br1", "--gateway", "10.6.0.1"), r"Invalid gateway"),
            (("10.5.0.0/24", "--bridge", "bridge-name-too-long"), r"Invalid bridge"),
        ]
        for args, pattern in cases:
            with self.subTest(args=args):
                self.assert_one_error_line(self.create("bad", *args), pattern)
        self.assertEqual((self.listed(), self.fixed_ips()), before)

    def test_missing_required_option_is_a_usage_error(self):
        result = self.create("no-bridge", "10.5.0.0/24")
        self.assertEqual(result.returncode, 2)
        self.assertIn("--bridge", result.stderr)
        self.assertEqual(self.listed()[1:], [])

    def test_delete_errors(self):
        unknown = str(uuid.uuid4())
        self.assert_one_error_line(
            self.nova_manage("network", "delete", unknown), f"Network {unknown} could not be found"
        )
        network = self.create_ok("busy", "10.0.0.0/29", "--bridge", "br100")
        with self.engine.begin() as connection:
            connection.execute(
                sa.text("UPDATE fixed_ips SET allocated = :yes WHERE address = '10.0.0.2'"),
                {"yes": True},
            )
        self.assert_one_error_line(
            self.nova_manage("network", "delete", network),
            rf"Conflict: network {network} has 1 allocated fixed IP",
        )
        self.assertEqual([row[0] for row in self.listed()[1:]], [network])
        self.assertEqual(len(self.fixed_ips()), 8)

    def test_schema_missing_is_one_error_line(self):
        down = self.nova_manage("db", "sync", "--version", "0")
        if down.returncode != 0:
            self.skipTest(f"cannot downgrade to 0: {down.stderr}")
        result = self.nova_manage("network", "list")
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertRegex(result.stderr, r"^ERROR: database error: ")
        self.assertEqual(len(result.stderr.strip().splitlines()), 1)


class TestNovaManageNetworkSQLite(NovaManageNetworkChecks):
    __test__ = True
    BACKEND = "sqlite"
