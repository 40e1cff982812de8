"""The filter scheduler: filters, weigher, atomic claims, no valid host, retries."""

from __future__ import annotations

import datetime
import threading
import unittest
from unittest import mock

import nova.conf
from nova import context as nova_context
from nova import exception
from nova.compute import vm_states
from nova.db import instances as instance_db
from nova.db import models
from nova.db import services as service_db
from nova.db import session as db_session
from nova.scheduler import filters
from nova.scheduler import manager
from tests.fixtures import databases
from tests.fixtures import hosts

CONF = nova.conf.CONF
ADMIN = nova_context.get_admin_context()


def host(name="h1", **values) -> filters.HostState:
    fields = dict(
        host=name, up=True, enabled=True, availability_zone="nova",
        vcpus=4, memory_mb=4096, local_gb=100,
    )  # fmt: skip
    fields.update(values)
    return filters.HostState(**fields)


SPEC = filters.RequestSpec(memory_mb=2048, vcpus=2, root_gb=20, availability_zone=None)


def plain_filter(state: filters.HostState, spec: filters.RequestSpec) -> bool:
    """A filter of the old kind: a bare True or False (here: only h1)."""
    return state.host == "h1"


class FiltersTestCase(unittest.TestCase):
    def test_each_filter(self):
        self.assertTrue(filters.compute_filter(host(), SPEC))
        self.assertFalse(filters.compute_filter(host(up=False), SPEC))
        self.assertFalse(filters.compute_filter(host(enabled=False), SPEC))
        excluded = filters.RequestSpec(2048, 2, 20, None, excluded_hosts=("h1",))
        self.assertFalse(filters.compute_filter(host(), excluded))
        # RAM is over-committed by ram_allocation_ratio (1.5): 4096 * 1.5 - 4096 = 2048.
        self.assertTrue(filters.ram_filter(host(memory_mb_used=4096), SPEC))
        self.assertFalse(filters.ram_filter(host(memory_mb_used=4097), SPEC))
        self.assertFalse(filters.core_filter(host(vcpus_used=63), SPEC))
        self.assertTrue(filters.core_filter(host(vcpus_used=62), SPEC))
        self.assertFalse(filters.disk_filter(host(local_gb_used=81), SPEC))
        zone = filters.RequestSpec(2048, 2, 20, "east")
        self.assertFalse(filters.availability_zone_filter(host(), zone))
        self.assertTrue(filters.availability_zone_filter(host(availability_zone="east"), zone))
        self.assertTrue(filters.availability_zone_filter(host(), SPEC))

    def test_each_filter_says_why(self):
        cases = [
            (filters.compute_filter, host(up=False), SPEC, "down: no heartbeat for 60 s"),
            (filters.compute_filter, host(enabled=False), SPEC, "disabled"),
            (
                filters.compute_filter,
                host(),
                filters.RequestSpec(2048, 2, 20, None, excluded_hosts=("h1",)),
                "tried already",
            ),
            (
                filters.ram_filter,
                host(memory_mb_used=5000),
                SPEC,
                "needs 2048 MB, 1144 MB free of 4096 MB * ram_allocation_ratio 1.5",
            ),
            (
                filters.core_filter,
                host(vcpus_used=63),
                SPEC,
                "needs 2 vCPUs, 1 free of 4 * cpu_allocation_ratio 16",
            ),
            (
                filters.disk_filter,
                host(local_gb_used=95),
                SPEC,
                "needs 20 GB, 5 GB free of 100 GB * disk_allocation_ratio 1",
            ),
            (
                filters.availability_zone_filter,
                host(),
                filters.RequestSpec(2048, 2, 20, "east"),
                "in zone nova, not east",
            ),
        ]
        for check, state, spec, reason in cases:
            with self.subTest(check=check.__name__, reason=reason):
                self.assertEqual(check(state, spec), filters.Rejected(reason))

    def test_why_no_host_counts_per_filter_in_order(self):
        hosts = [
            host("off", enabled=False, memory_mb_used=9999),  # ComputeFilter's: counted once
            host("full", memory_mb_used=6144),
            host("fuller", memory_mb_used=6144),
            host("nearly", memory_mb_used=5000),
            host("nodisk", local_gb=10),
        ]
        self.assertEqual(
            filters.why_no_host(hosts, SPEC),
            "5 hosts: ComputeFilter removed 1 (disabled), RamFilter removed 3 "
            "(2: needs 2048 MB, 0 MB free of 4096 MB * ram_allocation_ratio 1.5; "
            "1: needs 2048 MB, 1144 MB free of 4096 MB * ram_allocation_ratio 1.5), "
            "DiskFilter removed 1 (needs 20 GB, 10 GB free of 10 GB * disk_allocation_ratio 1)",
        )
        self.assertEqual(
            filters.why_no_host([host(memory_mb_used=6144)], SPEC),
            "1 host: RamFilter removed 1 "
            "(needs 2048 MB, 0 MB free of 4096 MB * ram_allocation_ratio 1.5)",
        )
        self.assertEqual(
            filters.why_no_host([], SPEC), "0 hosts: no nova-compute service is registered"
        )
        # Hosts the filters pass (their room was taken between the placement and this).
        self.assertEqual(
            filters.why_no_host([host(), host("off", up=False)], SPEC),
            "2 hosts: ComputeFilter removed 1 (down: no heartbeat for 60 s), "
            "1 passed the filters but other placements took the room",
        )

    def test_why_no_host_shows_the_commonest_reasons(self):
        hosts = [host(f"h{i}", memory_mb_used=6144 - i * 100) for i in range(4)]
        hosts.append(host("h0bis", memory_mb_used=6144))
        self.assertEqual(
            filters.why_no_host(hosts, SPEC, ["RamFilter"]),
            "5 hosts: RamFilter removed 5 "
            "(2: needs 2048 MB, 0 MB free of 4096 MB * ram_allocation_ratio 1.5; "
            "1: needs 2048 MB, 100 MB free of 4096 MB * ram_allocation_ratio 1.5; "
            "2 for other reasons)",
        )

    def test_a_filter_that_gives_no_reason(self):
        CONF.set_override("ram_allocation_ratio", 1.0)
        self.addCleanup(CONF.clear_override, "ram_allocation_ratio")
        path = f"{__name__}:plain_filter"
        self.assertEqual(
            filters.why_no_host([host(memory_mb_used=4096), host("h2")], SPEC, [path, "RamFilter"]),
            f"2 hosts: {path} removed 1 (no reason given), RamFilter removed 1 "
            "(needs 2048 MB, 0 MB free of 4096 MB * ram_allocation_ratio 1)",
        )

    def test_filter_and_weigh(self):
        hosts = [
            host("full", memory_mb_used=6000),
            host("small", memory_mb=3000),
            host("big", memory_mb=8192),
            host("down", up=False, memory_mb=65536),
        ]
        passed = filters.weigh_by_free_ram(filters.filter_hosts(hosts, SPEC))
        self.assertEqual([h.host for h in passed], ["big", "small"])

    def test_enabled_filters_are_the_configured_entry_points_in_order(self):
        self.assertEqual(
            filters.enabled_filters(),
            (
                filters.compute_filter,
                filters.ram_filter,
                filters.core_filter,
                filters.disk_filter,
                filters.availability_zone_filter,
            ),
        )
        CONF.set_override("enabled_filters", ["RamFilter"], "filter_scheduler")
        self.addCleanup(CONF.clear_override, "enabled_filters", "filter_scheduler")
        self.assertEqual(filters.enabled_filters(), (filters.ram_filter,))
        # The down host passes now: ComputeFilter is not enabled.
        hosts = [host("down", up=False), host("full", memory_mb_used=6000)]
        self.assertEqual([h.host for h in filters.filter_hosts(hosts, SPEC)], ["down"])

    def test_unknown_filter_stops_the_scheduler_at_start(self):
        CONF.set_override("enabled_filters", ["RamFilter", "NoSuchFilter"], "filter_scheduler")
        self.addCleanup(CONF.clear_override, "enabled_filters", "filter_scheduler")
        with self.assertRaisesRegex(exception.PluginNotFound, "'NoSuchFilter'.*RamFilter"):
            manager.SchedulerManager(compute=mock.Mock())


class SchedulerTestCase(databases.SchemaTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.compute = mock.Mock()
        self.scheduler = manager.SchedulerManager(compute=self.compute)

    def add_host(self, name, memory_mb=4096, vcpus=4, local_gb=100, zone="nova") -> None:
        hosts.add_compute_host(name, vcpus, memory_mb, local_gb, zone)

    def instance(self, memory_mb=1024, zone=None):
        return hosts.building_instance(memory_mb=memory_mb, availability_zone=zone)

    def node(self, name) -> models.ComputeNode:
        return {h.host: h for h in self.scheduler.host_states(ADMIN)}[name]

    def test_places_on_the_host_with_most_free_ram_and_claims(self):
        self.add_host("small", memory_mb=2048)
        self.add_host("big", memory_mb=8192)
        instance = self.instance()
        self.scheduler.run_instances(ADMIN, [instance.uuid])
        self.assertEqual(instance_db.instance_get_by_uuid(ADMIN, instance.uuid).host, "big")
        self.assertEqual(self.node("big").memory_mb_used, 1024)
        self.compute.run_instance.assert_called_once_with(
            ADMIN, "big", instance.uuid, attempt=1, excluded_hosts=[]
        )

    def test_no_valid_host(self):
        self.add_host("tiny", memory_mb=512)
        instance = self.instance(memory_mb=4096)
        self.scheduler.run_instances(ADMIN, [instance.uuid])
        row = instance_db.instance_get_by_uuid(ADMIN, instance.uuid)
        self.assertEqual((row.vm_state, row.task_state, row.host), ("error", None, None))
        fault = instance_db.instance_fault_get_latest(ADMIN, [row.id])[row.id]
        self.assertEqual(
            (fault.code, fault.message, fault.details),
            (
                500,
                "No valid host was found. There are not enough hosts available.",
                "1 host: RamFilter removed 1 "
                "(needs 4096 MB, 768 MB free of 512 MB * ram_allocation_ratio 1.5)",
            ),
        )
        self.compute.run_instance.assert_not_called()

    def test_no_valid_host_without_hosts(self):
        instance = self.instance()
        self.scheduler.run_instances(ADMIN, [instance.uuid])
        row = instance_db.instance_get_by_uuid(ADMIN, instance.uuid)
        fault = instance_db.instance_fault_get_latest(ADMIN, [row.id])[row.id]
        self.assertEqual(fault.details, "0 hosts: no nova-compute service is registered")

    def test_down_host_is_not_used(self):
        self.add_host("h1")
        instance = self.instance()
        with mock.patch.object(service_db, "service_is_up", return_value=False):
            self.scheduler.run_instances(ADMIN, [instance.uuid])
        self.compute.run_instance.assert_not_called()
        self.assertEqual(instance_db.instance_get_by_uuid(ADMIN, instance.uuid).vm_state, "error")

    def test_reschedule_excludes_failed_hosts(self):
        self.add_host("h1", memory_mb=8192)
        self.add_host("h2")
        instance = self.instance()
        self.scheduler.reschedule(ADMIN, instance.uuid, 2, ["h1"])
        self.assertEqual(instance_db.instance_get_by_uuid(ADMIN, instance.uuid).host, "h2")
        self.compute.run_instance.assert_called_once_with(
            ADMIN, "h2", instance.uuid, attempt=2, excluded_hosts=["h1"]
        )

    def test_the_best_hosts_come_from_the_database_in_the_weighers_order(self):
        for index in range(manager.BEST_HOSTS + 5):
            self.add_host(f"h{index:02d}", memory_mb=1024 * (index + 1))
        best = self.scheduler.host_states(ADMIN, most_free_ram=3)
        self.assertEqual([state.host for state in best], ["h14", "h13", "h12"])
        # The same hosts as every host's states filtered and weighed.
        weighed = filters.weigh_by_free_ram(self.scheduler.host_states(ADMIN))
        self.assertEqual(best, weighed[:3])

    def test_every_host_is_tried_when_none_of_the_best_fits(self):
        # The BEST_HOSTS hosts with the most free RAM are in another zone.
        for index in range(manager.BEST_HOSTS):
            self.add_host(f"west{index:02d}", memory_mb=65536, zone="west")
        self.add_host("small", memory_mb=2048, zone="east")
        self.add_host("east", memory_mb=4096, zone="east")
        instance = self.instance(zone="east")
        self.scheduler.run_instances(ADMIN, [instance.uuid])
        self.assertEqual(instance_db.instance_get_by_uuid(ADMIN, instance.uuid).host, "east")
        self.compute.run_instance.assert_called_once_with(
            ADMIN, "east", instance.uuid, attempt=1, excluded_hosts=[]
        )

    def test_availability_zone(self):
        self.add_host("west", memory_mb=8192, zone="west")
        self.add_host("east", zone="east")
        instance = self.instance(zone="east")
        self.scheduler.run_instances(ADMIN, [instance.uuid])
        self.assertEqual(instance_db.instance_get_by_uuid(ADMIN, instance.uuid).host, "east")

    def test_two_schedulers_never_over_commit(self):
        # Room for exactly 6 instances of 1024 MiB (4096 * 1.5).
        self.add_host("only", memory_mb=4096, vcpus=64)
        instances = [self.instance() for _ in range(12)]
        schedulers = [manager.SchedulerManager(compute=mock.Mock()) for _ in range(2)]
        barrier = threading.Barrier(4)

        def work(scheduler, batch):
            barrier.wait()
            for instance in batch:
                scheduler.schedule(ADMIN, instance.uuid)

        threads = [
            threading.Thread(target=work, args=(schedulers[i % 2], instances[i::4]))
            for i in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        rows = [instance_db.instance_get_by_uuid(ADMIN, i.uuid) for i in instances]
        placed = [r for r in rows if r.host == "only"]
        self.assertEqual(len(placed), 6)
        self.assertEqual(sum(r.vm_state == "error" for r in rows), 6)
        self.assertEqual(self.node("only").memory_mb_used, 6 * 1024)

    def test_release_never_goes_below_zero(self):
        self.add_host("h1")
        service_db.compute_node_release(ADMIN, "h1", 1024, 1, 1)
        self.assertEqual(self.node("h1").memory_mb_used, 0)

    def test_deleted_instance_is_skipped(self):
        self.add_host("h1")
        self.scheduler.run_instances(ADMIN, ["00000000-0000-4000-8000-000000000000"])
        self.compute.run_instance.assert_not_called()


class SchedulerFailureTestCase(SchedulerTestCase):
    def test_unexpected_failure_puts_the_instance_in_error(self):
        self.add_host("h1")
        instance = self.instance()
        with mock.patch.object(
            self.scheduler, "select_and_claim", side_effect=RuntimeError("database is locked")
        ):
            self.scheduler.run_instances(ADMIN, [instance.uuid])
        row = instance_db.instance_get_by_uuid(ADMIN, instance.uuid)
        self.assertEqual((row.vm_state, row.task_state), ("error", None))
        fault = instance_db.instance_fault_get_latest(ADMIN, [row.id])[row.id]
        self.assertIn("database is locked", fault.message)

    def test_claim_is_rolled_back_when_placing_fails(self):
        self.add_host("h1")
        instance = self.instance()
        real_update_in = instance_db.instance_update_in
        failures = [RuntimeError("boom")]  # the claim's update fails, putting in ERROR does not

        def fail_once(*args, **kwargs):
            if failures:
                raise failures.pop()
            return real_update_in(*args, **kwargs)

        with mock.patch.object(instance_db, "instance_update_in", side_effect=fail_once):
            self.scheduler.run_instances(ADMIN, [instance.uuid])
        self.assertEqual(self.node("h1").memory_mb_used, 0)
        self.assertEqual(instance_db.instance_get_by_uuid(ADMIN, instance.uuid).vm_state, "error")

    def test_nothing_is_claimed_for_an_instance_deleted_while_scheduling(self):
        self.add_host("h1")
        instance = self.instance()
        real_hosts = self.scheduler.host_states

        def delete_then_list(context):
            instance_db.instance_destroy(ADMIN, instance.uuid)  # gone between read and claim
            return real_hosts(context)

        with mock.patch.object(self.scheduler, "host_states", side_effect=delete_then_list):
            self.scheduler.run_instances(ADMIN, [instance.uuid])
        self.assertEqual(self.node("h1").memory_mb_used, 0)
        self.compute.run_instance.assert_not_called()


class SweepTestCase(SchedulerTestCase):
    """The sweep: lost launches scheduled again, lost casts re-sent, down hosts' builds moved."""

    def age(self, instance, seconds: int) -> None:
        """Make ``instance`` look last changed ``seconds`` ago."""
        engine = db_session.get_engine()
        with engine.begin() as connection:
            connection.execute(
                models.Instance.__table__.update()
                .where(models.Instance.id == instance.id)
                .values(updated_at=models.utcnow() - datetime.timedelta(seconds=seconds))
            )

    def host_down(self, name: str) -> None:
        """Make the compute service of ``name`` look silent for ``service_down_time`` and more."""
        old = models.utcnow() - datetime.timedelta(seconds=CONF.service_down_time + 10)
        engine = db_session.get_engine()
        with engine.begin() as connection:
            connection.execute(
                models.Service.__table__.update()
                .where(models.Service.host == name)
                .values(updated_at=old, created_at=old)
            )

    def reload(self, instance):
        return instance_db.instance_get_by_uuid(ADMIN, instance.uuid)

    def test_only_old_unplaced_launches_fail(self):
        self.add_host("h1")
        lost, recent, placed = self.instance(), self.instance(), self.instance()
        self.scheduler.run_instances(ADMIN, [placed.uuid])
        self.age(lost, 700)
        self.age(placed, 700)
        self.compute.reset_mock()
        self.scheduler.sweep()
        row = self.reload(lost)
        self.assertEqual((row.vm_state, row.task_state), ("error", None))
        fault = instance_db.instance_fault_get_latest(ADMIN, [row.id])[row.id]
        self.assertIn("Not scheduled within 600 s", fault.message)
        self.assertEqual(self.reload(recent).vm_state, "building")
        self.assertIsNone(self.reload(recent).host)  # younger than recast_after: left alone
        self.assertEqual(self.reload(placed).host, "h1")
        self.assertEqual(self.reload(placed).vm_state, "building")
        self.assertEqual(instance_db.instance_fault_get_latest(ADMIN, [placed.id]), {})
        # The placed one never started: its cast is sent again (the only cast).
        self.compute.run_instance.assert_called_once_with(mock.ANY, "h1", placed.uuid)

    def test_zero_timeout_never_fails_anything(self):
        CONF.set_override("unscheduled_timeout", 0, group="scheduler")
        self.addCleanup(CONF.clear_override, "unscheduled_timeout", group="scheduler")
        lost = self.instance()
        self.age(lost, 10**6)
        self.scheduler.sweep()  # no host at all: no valid host, but not the timeout's fault
        fault = instance_db.instance_fault_get_latest(ADMIN, [lost.id])[lost.id]
        self.assertNotIn("Not scheduled within", fault.message)

    def test_a_lost_launch_is_scheduled_again(self):
        self.add_host("h1")
        lost = self.instance()
        self.age(lost, CONF.scheduler.recast_after + 1)
        self.scheduler.sweep()
        self.assertEqual(self.reload(lost).host, "h1")
        self.assertEqual(self.node("h1").memory_mb_used, 1024)
        self.compute.run_instance.assert_called_once_with(
            mock.ANY, "h1", lost.uuid, attempt=1, excluded_hosts=[]
        )

    def test_a_late_second_message_claims_nothing_more(self):
        self.add_host("h1")
        self.add_host("h2")
        instance = self.instance()
        self.scheduler.run_instances(ADMIN, [instance.uuid])
        self.scheduler.run_instances(ADMIN, [instance.uuid])  # the original, late
        self.scheduler.reschedule(ADMIN, instance.uuid, 2, [])
        self.assertEqual(self.node("h1").memory_mb_used + self.node("h2").memory_mb_used, 1024)
        self.assertEqual(self.compute.run_instance.call_count, 1)

    def test_a_recast_waits_recast_after_again(self):
        self.add_host("h1")
        placed = self.instance()
        self.scheduler.run_instances(ADMIN, [placed.uuid])
        self.age(placed, CONF.scheduler.recast_after + 1)
        self.scheduler.sweep()
        self.scheduler.sweep()
        self.assertEqual(self.compute.run_instance.call_count, 2)  # the first cast, one retry

    def test_started_builds_on_live_hosts_are_left_alone(self):
        self.add_host("h1")
        instance = self.instance()
        self.scheduler.run_instances(ADMIN, [instance.uuid])
        instance_db.instance_update(ADMIN, instance.uuid, {"task_state": vm_states.SPAWNING})
        self.age(instance, 3600)
        self.scheduler.sweep()
        self.assertEqual(self.compute.run_instance.call_count, 1)
        self.assertEqual(self.reload(instance).task_state, vm_states.SPAWNING)

    def test_builds_of_a_down_compute_are_rescheduled_and_its_claim_released(self):
        self.add_host("h1", memory_mb=8192)
        self.add_host("h2")
        instance = self.instance()
        self.scheduler.run_instances(ADMIN, [instance.uuid])
        self.assertEqual(self.reload(instance).host, "h1")
        instance_db.instance_update(ADMIN, instance.uuid, {"task_state": vm_states.NETWORKING})
        self.host_down("h1")
        self.compute.reset_mock()
        self.scheduler.sweep()
        row = self.reload(instance)
        self.assertEqual((row.host, row.vm_state, row.task_state), ("h2", "building", "scheduling"))
        self.assertEqual(self.node("h1").memory_mb_used, 0)
        self.assertEqual(self.node("h2").memory_mb_used, 1024)
        self.compute.run_instance.assert_called_once_with(
            mock.ANY, "h2", instance.uuid, attempt=1, excluded_hosts=["h1"]
        )

    def test_builds_of_a_down_compute_fail_naming_it_when_no_host_is_left(self):
        self.add_host("h1")
        instance = self.instance()
        self.scheduler.run_instances(ADMIN, [instance.uuid])
        self.host_down("h1")
        self.scheduler.sweep()
        row = self.reload(instance)
        self.assertEqual((row.vm_state, row.host), ("error", None))
        fault = instance_db.instance_fault_get_latest(ADMIN, [row.id])[row.id]
        self.assertIn("No valid host was found", fault.message)
        self.assertIn("compute service of h1 is down", fault.details)
        self.assertIn("The last attempt failed: The compute service of h1", fault.message)
        self.assertEqual(self.node("h1").memory_mb_used, 0)

    def test_two_sweeps_take_a_build_off_a_down_host_once(self):
        self.add_host("h1")
        instance = self.instance()
        self.scheduler.run_instances(ADMIN, [instance.uuid])
        instance_db.instance_update(ADMIN, instance.uuid, {"task_state": vm_states.SPAWNING})
        # Both sweeps read the build on h1 before either takes it.
        (seen,) = instance_db.instance_get_building(ADMIN)
        with mock.patch.object(self.scheduler, "schedule"):
            self.scheduler._take_from_down_host(ADMIN, seen)
            self.scheduler._take_from_down_host(ADMIN, seen)
        self.assertEqual(self.node("h1").memory_mb_used, 0)
        faults = self.rows_of_faults(instance)
        self.assertEqual(len(faults), 1)

    def rows_of_faults(self, instance) -> list:
        engine = db_session.get_engine()
        with engine.connect() as connection:
            table = models.InstanceFault.__table__
            statement = table.select().where(table.c.instance_id == instance.id)
            return list(connection.execute(statement))
