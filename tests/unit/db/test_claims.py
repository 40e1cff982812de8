"""Claims given back by the write that ends them, and the usage audit.

``tests/integration/test_scheduler_claims.py`` runs these on PostgreSQL and
MySQL too, where the row locks really are taken concurrently.
"""

from __future__ import annotations

import threading
from unittest import mock

from nova import context as nova_context
from nova import exception
from nova.compute import vm_states
from nova.db import instances as instance_db
from nova.db import services as service_db
from nova.db import session
from nova.scheduler import manager
from tests.fixtures import databases
from tests.fixtures import hosts

ADMIN = nova_context.get_admin_context()
HOST = "h1"
RATIOS = {"ram": 1.0, "cpu": 1.0, "disk": 1.0}


class ClaimsTestCase(databases.SchemaTestCase):
    def setUp(self) -> None:
        super().setUp()
        hosts.add_compute_host(HOST, vcpus=64, memory_mb=65536, local_gb=1000)

    def claimed(self, memory_mb: int = 512):
        """An instance placed on HOST, its claim taken."""
        instance = hosts.building_instance(memory_mb=memory_mb)
        placed = service_db.instance_claim(
            ADMIN,
            instance.uuid,
            HOST,
            RATIOS,
            (memory_mb, 1, 1),
            {"host": HOST},
            {"host": None, "task_state": vm_states.SCHEDULING},
        )
        self.assertIsNotNone(placed)
        return placed

    def usage(self) -> tuple[int, int, int, int]:
        node = {n.host: n for _s, n in service_db.compute_hosts(ADMIN)}[HOST]
        assert node is not None
        return (node.memory_mb_used, node.vcpus_used, node.local_gb_used, node.running_vms)

    def test_error_gives_the_claim_back_once(self):
        kept = self.claimed(memory_mb=1024)
        failed = self.claimed()
        fault = {"code": 500, "message": "boom", "details": "", "host": HOST}
        row = service_db.instance_set_error(ADMIN, failed.uuid, fault)
        self.assertEqual((row.vm_state, row.host), ("error", HOST))
        self.assertEqual(self.usage(), (1024, 1, 1, 1))
        service_db.instance_set_error(ADMIN, failed.uuid, fault)  # no claim left to give
        self.assertEqual(self.usage(), (1024, 1, 1, 1))
        service_db.instance_transition(ADMIN, failed.uuid, destroy=True)
        self.assertEqual(self.usage(), (1024, 1, 1, 1))
        service_db.instance_transition(ADMIN, kept.uuid, destroy=True)
        self.assertEqual(self.usage(), (0, 0, 0, 0))
        faults = instance_db.instance_fault_get_latest(ADMIN, [failed.id])
        self.assertEqual(faults[failed.id].message, "boom")

    def test_leaving_the_host_gives_the_claim_back(self):
        instance = self.claimed()
        row = service_db.instance_transition(
            ADMIN,
            instance.uuid,
            {"host": None, "task_state": vm_states.SCHEDULING},
            {"vm_state": vm_states.BUILDING, "host": HOST},
        )
        self.assertIsNone(row.host)
        self.assertEqual(self.usage(), (0, 0, 0, 0))

    def test_a_transition_that_does_not_match_changes_nothing(self):
        instance = self.claimed()
        with self.assertRaises(exception.InstanceInvalidState):
            service_db.instance_transition(
                ADMIN, instance.uuid, {"host": None}, {"host": "elsewhere"}
            )
        with self.assertRaises(exception.InstanceInvalidState):
            service_db.instance_transition(
                ADMIN, instance.uuid, expected={"task_state": vm_states.DELETING}, destroy=True
            )
        self.assertEqual(self.usage(), (512, 1, 1, 1))
        with self.assertRaises(exception.InstanceNotFound):
            service_db.instance_transition(
                ADMIN, "00000000-0000-4000-8000-000000000000", destroy=True
            )

    def test_no_claim_for_an_instance_being_deleted(self):
        instance = hosts.building_instance(task_state=vm_states.DELETING)
        scheduler = manager.SchedulerManager(compute=mock.Mock())
        with self.assertRaises(exception.InstanceInvalidState):
            scheduler.select_and_claim(ADMIN, instance)
        self.assertEqual(self.usage(), (0, 0, 0, 0))
        self.assertIsNone(instance_db.instance_get_by_uuid(ADMIN, instance.uuid).host)

    def test_concurrent_endings_give_the_claim_back_once(self):
        instances = [self.claimed() for _ in range(12)]
        fault = {"code": 500, "message": "boom", "details": "", "host": HOST}
        barrier = threading.Barrier(3)
        errors: list[BaseException] = []

        def end(how):
            barrier.wait()
            for instance in instances:
                try:
                    if how == "destroy":
                        service_db.instance_transition(ADMIN, instance.uuid, destroy=True)
                    elif how == "error":
                        service_db.instance_set_error(ADMIN, instance.uuid, fault)
                    else:
                        service_db.instance_transition(
                            ADMIN, instance.uuid, {"host": None}, {"host": HOST}
                        )
                except (exception.InstanceNotFound, exception.InstanceInvalidState):
                    pass
                except BaseException as exc:  # noqa: BLE001 - reported below
                    errors.append(exc)

        threads = [
            threading.Thread(target=end, args=(how,)) for how in ("destroy", "error", "move")
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(errors, [])
        self.assertEqual(self.usage(), (0, 0, 0, 0))

    def test_reset_state_gives_the_claim_back_and_takes_it_again(self):
        instance = self.claimed(memory_mb=1024)
        before, after = service_db.instance_reset_state(ADMIN, instance.uuid, "error")
        self.assertEqual((before.vm_state, before.task_state), ("building", "scheduling"))
        self.assertEqual((after.vm_state, after.task_state, after.host), ("error", None, HOST))
        self.assertEqual(self.usage(), (0, 0, 0, 0))
        service_db.instance_reset_state(ADMIN, instance.uuid, "error")  # nothing left to give
        self.assertEqual(self.usage(), (0, 0, 0, 0))
        service_db.instance_reset_state(ADMIN, instance.uuid, "active")
        self.assertEqual(self.usage(), (1024, 1, 1, 1))
        service_db.instance_reset_state(ADMIN, instance.uuid, "active")  # held already
        self.assertEqual(self.usage(), (1024, 1, 1, 1))
        self.assertIsNone(service_db.compute_node_audit(ADMIN, HOST))
        # Without a host there is nothing to take.
        unplaced = hosts.building_instance()
        service_db.instance_reset_state(ADMIN, unplaced.uuid, "active")
        self.assertEqual(self.usage(), (1024, 1, 1, 1))
        with self.assertRaises(exception.Invalid):
            service_db.instance_reset_state(ADMIN, instance.uuid, "deleted")
        with self.assertRaises(exception.InstanceNotFound):
            service_db.instance_reset_state(ADMIN, "00000000-0000-4000-8000-000000000000", "error")

    def test_concurrent_resets_keep_usage_equal_to_the_claims(self):
        instances = [self.claimed() for _ in range(8)]
        errors: list[BaseException] = []

        def flip(first: str, second: str):
            try:
                for _ in range(3):
                    for state in (first, second):
                        for instance in instances:
                            service_db.instance_reset_state(ADMIN, instance.uuid, state)
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [
            threading.Thread(target=flip, args=states)
            for states in (("error", "active"), ("active", "error"), ("error", "active"))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(errors, [])
        self.assertIsNone(service_db.compute_node_audit(ADMIN, HOST))  # usage = the claims
        for instance in instances:
            service_db.instance_reset_state(ADMIN, instance.uuid, "active")
        self.assertEqual(self.usage(), (8 * 512, 8, 8, 8))

    def test_audit_recomputes_usage_from_the_claims(self):
        self.claimed(memory_mb=1024)
        active = self.claimed()
        instance_db.instance_update(ADMIN, active.uuid, {"vm_state": vm_states.ACTIVE})
        failed = self.claimed(memory_mb=2048)
        service_db.instance_set_error(
            ADMIN, failed.uuid, {"code": 500, "message": "x", "details": "", "host": HOST}
        )
        self.assertIsNone(service_db.compute_node_audit(ADMIN, HOST))  # right: nothing to do

        with session.writer() as conn:
            conn.exec_driver_sql(
                "UPDATE compute_nodes SET memory_mb_used = 9, vcpus_used = 0, "
                "local_gb_used = 70, running_vms = 40"
            )
        before, after = service_db.compute_node_audit(ADMIN, HOST)
        self.assertEqual(
            before,
            {"memory_mb_used": 9, "vcpus_used": 0, "local_gb_used": 70, "running_vms": 40},
        )
        self.assertEqual(
            after,
            {"memory_mb_used": 1536, "vcpus_used": 2, "local_gb_used": 2, "running_vms": 2},
        )
        self.assertEqual(self.usage(), (1536, 2, 2, 2))
        self.assertIsNone(service_db.compute_node_audit(ADMIN, HOST))
        self.assertIsNone(service_db.compute_node_audit(ADMIN, "no-such-host"))

    def test_audit_during_claims_and_releases_never_finds_anything_wrong(self):
        stop = threading.Event()
        corrections: list = []
        errors: list[BaseException] = []

        def audit():
            while not stop.is_set():
                try:
                    found = service_db.compute_node_audit(ADMIN, HOST)
                except BaseException as exc:  # noqa: BLE001 - reported below
                    errors.append(exc)
                    return
                if found is not None:
                    corrections.append(found)

        def churn():
            try:
                for _ in range(15):
                    instance = self.claimed()
                    service_db.instance_transition(ADMIN, instance.uuid, destroy=True)
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        auditor = threading.Thread(target=audit)
        auditor.start()
        workers = [threading.Thread(target=churn) for _ in range(3)]
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join()
        stop.set()
        auditor.join()
        self.assertEqual(errors, [])
        self.assertEqual(corrections, [])
        self.assertEqual(self.usage(), (0, 0, 0, 0))


def test_claimed_states_are_the_compute_states_holding_a_claim():
    # nova.db may not import nova.compute, so the states whose instances
    # count in their host's usage are written twice; the audit and the
    # compute's releases must agree on them.
    assert set(service_db.CLAIMED_STATES) == set(vm_states.HOLDING_CLAIM)
