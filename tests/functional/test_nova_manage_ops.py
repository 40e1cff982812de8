"""``nova-manage service``, ``host list`` and ``server reset-state`` end to end, in a subprocess.

The services, compute nodes and instances are rows of the test's database
(``tests.fixtures.hosts``), as running nova-compute services write them;
the scheduler that must keep new servers off a disabled host is the real
one (``SchedulerManager.select_and_claim``). ``tests/integration/
test_nova_manage.py`` runs the same checks on PostgreSQL.
"""

from __future__ import annotations

import datetime
import os
import subprocess
import tempfile
import uuid

import sqlalchemy as sa

from nova import context as nova_context
from nova.compute import vm_states
from nova.db import instances as instance_db
from nova.db import models
from nova.db import services as service_db
from nova.scheduler import manager as scheduler_manager
from tests.fixtures import databases
from tests.fixtures import hosts
from tests.functional import test_nova_manage

ADMIN = nova_context.get_admin_context()
RATIOS = {"ram": 1.5, "cpu": 16.0, "disk": 1.0}
SERVICE_COLUMNS = 9  # id binary host zone status state updated_at age disabled_reason


class NovaManageOpsChecks(databases.SchemaTestCase):
    __test__ = False

    def setUp(self) -> None:
        super().setUp()
        handle = tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False)
        with handle:
            handle.write(f"[DEFAULT]\nstate_path = {tempfile.gettempdir()}\n")
            handle.write("ram_allocation_ratio = 2.0\nservice_down_time = 60\n")
            handle.write(f"[database]\nconnection = {self.db_url}\n")
        self.addCleanup(os.unlink, handle.name)
        self.config_file = handle.name
        self.engine = sa.create_engine(self.db_url)
        self.addCleanup(self.engine.dispose)

    def nova_manage(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*test_nova_manage.nova_manage_command(), "--config-file", self.config_file, *args],
            capture_output=True,
            text=True,
            timeout=120,
        )

    def ok(self, *args: str) -> str:
        result = self.nova_manage(*args)
        self.assertEqual((result.returncode, result.stderr), (0, ""), result.stdout)
        return result.stdout

    def assert_one_error_line(self, result, pattern: str) -> None:
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertEqual(result.stdout, "")
        lines = result.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, result.stderr)
        self.assertRegex(lines[0], f"^ERROR: {pattern}")

    def services(self, *args: str) -> dict[tuple[str, str], dict[str, str]]:
        """Run ``service list``; return ``{(host, binary): {column: value}}``."""
        header, *lines = self.ok("service", "list", *args).splitlines()
        columns = header.split()
        self.assertEqual(len(columns), SERVICE_COLUMNS)
        rows = [
            dict(zip(columns, line.split(None, SERVICE_COLUMNS - 1), strict=True)) for line in lines
        ]
        return {(row["host"], row["binary"]): row for row in rows}

    def hosts(self) -> tuple[str, dict[str, dict[str, str]]]:
        """Run ``host list``; return its first line and ``{host: {column: value}}``."""
        ratios, header, *lines = self.ok("host", "list").splitlines()
        columns = header.split()
        return ratios, {
            row["host"]: row
            for row in (dict(zip(columns, line.split(), strict=True)) for line in lines)
        }

    def claimed(self, host: str, memory_mb: int = 512):
        """An ACTIVE instance on ``host``, its claim taken."""
        instance = hosts.building_instance(memory_mb=memory_mb)
        placed = service_db.instance_claim(
            ADMIN,
            instance.uuid,
            host,
            RATIOS,
            (memory_mb, 1, 1),
            {"host": host, "vm_state": vm_states.ACTIVE, "task_state": None},
            {"host": None, "task_state": vm_states.SCHEDULING},
        )
        self.assertIsNotNone(placed)
        return placed

    def age_heartbeat(self, host: str, seconds: int) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                sa.text("UPDATE services SET updated_at = :t WHERE host = :h"),
                {"t": models.utcnow() - datetime.timedelta(seconds=seconds), "h": host},
            )

    # --- service ---------------------------------------------------------------------

    def test_service_list_enable_disable(self):
        hosts.add_compute_host("c1", zone="az1")
        hosts.add_compute_host("c2")
        service_db.service_get_or_create(ADMIN, "ctl", "nova-scheduler", {"topic": "scheduler"})
        self.age_heartbeat("c2", 300)

        listed = self.services()
        self.assertEqual(
            {key: (row["zone"], row["status"], row["state"]) for key, row in listed.items()},
            {
                ("c1", "nova-compute"): ("az1", "enabled", "up"),
                ("c2", "nova-compute"): ("nova", "enabled", "down"),
                ("ctl", "nova-scheduler"): ("internal", "enabled", "up"),
            },
        )
        self.assertRegex(listed["c2", "nova-compute"]["updated_at"], r"^\d{4}-\d\d-\d\dT")
        self.assertGreaterEqual(int(listed["c2", "nova-compute"]["age"].rstrip("s")), 300)
        self.assertEqual(
            set(self.services("--binary", "nova-scheduler")), {("ctl", "nova-scheduler")}
        )
        self.assertEqual(set(self.services("--host", "c1")), {("c1", "nova-compute")})

        self.assertEqual(
            self.ok("service", "disable", "c1", "nova-compute", "--reason", "new disks"),
            "Disabled nova-compute on c1 (reason: new disks)\n",
        )
        row = self.services()["c1", "nova-compute"]
        self.assertEqual((row["status"], row["disabled_reason"]), ("disabled", "new disks"))
        self.assertEqual(row["state"], "up")  # an operator's change is no heartbeat
        self.assertEqual(
            self.ok("service", "enable", "c1", "nova-compute"), "Enabled nova-compute on c1\n"
        )
        row = self.services()["c1", "nova-compute"]
        self.assertEqual((row["status"], row["disabled_reason"]), ("enabled", "-"))

        self.assert_one_error_line(
            self.nova_manage("service", "disable", "ctl", "nova-scheduler"),
            "Cannot disable nova-scheduler: only nova-compute",
        )
        self.assert_one_error_line(
            self.nova_manage("service", "enable", "nohost", "nova-compute"),
            "Could not find binary nova-compute on host nohost.",
        )
        self.assert_one_error_line(
            self.nova_manage("service", "disable", "c1", "nova-compute", "--reason", ""),
            "Invalid reason",
        )

    def test_disabled_host_gets_no_new_server(self):
        hosts.add_compute_host("c1")
        hosts.add_compute_host("c2")
        self.ok("service", "disable", "c1", "nova-compute")
        scheduler = scheduler_manager.SchedulerManager()
        placed = [
            scheduler.select_and_claim(ADMIN, hosts.building_instance()).host for _ in range(4)
        ]
        self.assertEqual(placed, ["c2"] * 4)

        self.ok("service", "enable", "c1", "nova-compute")
        # c1 has the most free RAM again: the next server goes there.
        self.assertEqual(scheduler.select_and_claim(ADMIN, hosts.building_instance()).host, "c1")
        _ratios, listed = self.hosts()
        self.assertEqual((listed["c1"]["instances"], listed["c2"]["instances"]), ("1", "4"))

        # Both disabled: no host at all.
        self.ok("service", "disable", "c1", "nova-compute")
        self.ok("service", "disable", "c2", "nova-compute")
        self.assertIsNone(scheduler.select_and_claim(ADMIN, hosts.building_instance()))

    def test_service_delete(self):
        service = hosts.add_compute_host("c1")
        instance = self.claimed("c1")
        self.assert_one_error_line(
            self.nova_manage("service", "delete", "c1", "nova-compute"),
            "Cannot delete nova-compute on c1: 1 instance",
        )
        self.assertIn(("c1", "nova-compute"), self.services())

        service_db.instance_transition(ADMIN, instance.uuid, destroy=True)
        out = self.ok("service", "delete", "c1", "nova-compute")
        self.assertTrue(
            out.startswith(
                f"Deleted service {service.id} (nova-compute on c1) and its compute node\n"
            ),
            out,
        )
        self.assertIn("was up: stop it", out)  # its heartbeat was fresh
        self.assertEqual(self.services(), {})
        with self.engine.connect() as connection:
            nodes = connection.execute(sa.text("SELECT deleted FROM compute_nodes")).scalars().all()
        self.assertEqual(len(nodes), 1)
        self.assertNotEqual(nodes[0], 0)  # soft-deleted with its service
        self.assert_one_error_line(
            self.nova_manage("service", "delete", "c1", "nova-compute"),
            "Could not find binary nova-compute on host c1.",
        )

    # --- host ------------------------------------------------------------------------

    def test_host_list(self):
        hosts.add_compute_host("c1", vcpus=4, memory_mb=3072, local_gb=40)
        service_db.service_get_or_create(ADMIN, "c2", "nova-compute", {"topic": "compute"})
        self.claimed("c1", memory_mb=1024)
        failed = self.claimed("c1")
        fault = {"code": 500, "message": "boom", "details": "", "host": "c1"}
        service_db.instance_set_error(ADMIN, failed.uuid, fault)  # no claim, still on c1
        self.ok("service", "disable", "c1", "nova-compute")

        ratios, listed = self.hosts()
        self.assertEqual(
            ratios,
            "Allocation ratios (this configuration's): cpu 16.0, ram 2.0, disk 1.0; "
            "free = total x ratio - used",
        )
        c1 = listed["c1"]
        self.assertEqual((c1["status"], c1["state"], c1["instances"]), ("disabled", "up", "2"))
        self.assertEqual(
            [c1[f"vcpus{s}"] for s in ("", "_used", "_free")], ["4", "1", str(4 * 16 - 1)]
        )
        # 3072 MB at 2.0 (the configuration's): 6144 MB to promise, 1024 of them taken.
        self.assertEqual(
            [c1[f"memory_mb{s}"] for s in ("", "_used", "_free")], ["3072", "1024", "5120"]
        )
        self.assertEqual([c1[f"disk_gb{s}"] for s in ("", "_used", "_free")], ["40", "1", "39"])
        # A compute registered whose capacity is not known yet.
        self.assertEqual(listed["c2"]["memory_mb"], "-")

    # --- server ----------------------------------------------------------------------

    def test_server_reset_state(self):
        hosts.add_compute_host("c1", vcpus=4, memory_mb=3072, local_gb=40)
        instance = self.claimed("c1")

        self.assertEqual(
            self.ok("server", "reset-state", instance.uuid, "--state", "error"),
            f"Reset server {instance.uuid}: ACTIVE (task none) -> ERROR\n",
        )
        self.assertEqual(self.hosts()[1]["c1"]["memory_mb_used"], "0")  # the claim given back
        self.ok("server", "reset-state", instance.uuid, "--state", "active")
        self.assertEqual(self.hosts()[1]["c1"]["memory_mb_used"], "512")  # taken again
        row = instance_db.instance_get_by_uuid(ADMIN, instance.uuid)
        self.assertEqual((row.vm_state, row.task_state), ("active", None))

        # Stuck mid-build on a host: error, the task cleared, the claim given back.
        stuck = self.claimed("c1")
        instance_db.instance_update(
            ADMIN, stuck.uuid, {"vm_state": vm_states.BUILDING, "task_state": vm_states.SPAWNING}
        )
        self.assertEqual(
            self.ok("server", "reset-state", stuck.uuid, "--state", "error"),
            f"Reset server {stuck.uuid}: BUILD (task spawning) -> ERROR\n",
        )
        row = instance_db.instance_get_by_uuid(ADMIN, stuck.uuid)
        self.assertEqual((row.vm_state, row.task_state, row.host), ("error", None, "c1"))
        self.assertEqual(self.hosts()[1]["c1"]["memory_mb_used"], "512")

        self.assert_one_error_line(
            self.nova_manage("server", "reset-state", instance.uuid, "--state", "deleted"),
            "Invalid state 'deleted': active or error is required.",
        )
        missing = str(uuid.uuid4())
        self.assert_one_error_line(
            self.nova_manage("server", "reset-state", missing, "--state", "error"),
            f"Instance {missing} could not be found.",
        )
        row = instance_db.instance_get_by_uuid(ADMIN, instance.uuid)
        self.assertEqual(row.vm_state, "active")  # nothing written by the refusals


class TestNovaManageOpsSQLite(NovaManageOpsChecks):
    __test__ = True
    BACKEND = "sqlite"
