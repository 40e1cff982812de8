"""The compute manager's state machine and its cleanup at every failure point."""

from __future__ import annotations

import shutil
import tempfile
import time
import uuid
from unittest import mock

import oslo_messaging as messaging

import nova.conf
from nova import context as nova_context
from nova import exception
from nova.compute import manager
from nova.compute import vm_states
from nova.db import instances as instance_db
from nova.db import metadata as metadata_db
from nova.db import services as service_db
from nova.db import session as db_session
from nova.network import api as network_api
from nova.network import model
from nova.virt import fake
from nova.virt.libvirt import driver as libvirt_driver
from tests.fixtures import databases
from tests.fixtures import hosts

CONF = nova.conf.CONF
ADMIN = nova_context.get_admin_context()
HOST = "compute1"


class StubNetwork(network_api.NetworkAPI):
    """A network backend that hands out fixed network info (unit-test double)."""

    def __init__(self, configuration=None, fail=None) -> None:
        self.configuration = configuration or {"vif_type": "ethernet"}
        self.fail = fail
        self.deallocated: list[str] = []

    def validate_networks(self, context, requested, max_count):
        pass

    def allocate_for_instance(self, context, instance, requested):
        return []

    def get_instance_nw_info(self, context, instance):
        return [
            model.VIF(
                id=str(uuid.UUID(int=instance.id)),
                address="fa:16:3e:00:00:01",
                network=model.Network(id="n1"),
                configuration=self.configuration,
            )
        ]

    def bind_for_host(self, context, instance, host):
        if self.fail is not None:
            raise self.fail
        return self.get_instance_nw_info(context, instance)

    def deallocate_for_instance(self, context, instance):
        self.deallocated.append(instance.uuid)


class ComputeManagerTestCase(databases.SchemaTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.state_path = tempfile.mkdtemp(prefix="nova-compute-")
        self.addCleanup(shutil.rmtree, self.state_path, ignore_errors=True)
        CONF.set_override("state_path", self.state_path)
        self.addCleanup(CONF.clear_override, "state_path")
        hosts.add_compute_host(HOST, heartbeat=False)
        self.network = StubNetwork()
        self.scheduler = mock.Mock()
        self.driver = fake.FakeDriver()
        self.manager = self.make_manager(self.driver)

    def make_manager(self, driver):
        return manager.ComputeManager(
            host=HOST, driver=driver, network=self.network, scheduler=self.scheduler
        )

    def placed_instance(self):
        """An instance the scheduler placed here, with its claim taken."""
        instance = hosts.building_instance()
        ratios = {"ram": 1.0, "cpu": 1.0, "disk": 1.0}
        placed = service_db.instance_claim(
            ADMIN, instance.uuid, HOST, ratios, (512, 1, 1), {"host": HOST}, {"host": None}
        )
        self.assertEqual(placed.host, HOST)
        return placed

    def used_memory(self) -> int:
        return {n.host: n for _s, n in service_db.compute_hosts(ADMIN)}[HOST].memory_mb_used

    def reload(self, instance):
        return instance_db.instance_get_by_uuid(ADMIN, instance.uuid)

    def test_success_goes_active(self):
        instance = self.placed_instance()
        self.manager.run_instance(ADMIN, instance.uuid)
        row = self.reload(instance)
        self.assertEqual((row.vm_state, row.task_state), ("active", None))
        self.assertIsNotNone(row.launched_at)
        self.assertIn(instance.uuid, self.driver.guests)
        self.assertEqual(self.used_memory(), 512)

    def test_spawn_gets_the_request_context_and_the_server_metadata(self):
        instance = self.placed_instance()
        # Metadata is written to a server in no task: step out of scheduling for it.
        instance_db.instance_update(ADMIN, instance.uuid, {"task_state": None})
        metadata_db.metadata_update(
            ADMIN, instance.uuid, {"ping": "10.0.0.3"}, False, None, [vm_states.BUILDING]
        )
        instance_db.instance_update(ADMIN, instance.uuid, {"task_state": vm_states.SCHEDULING})
        with mock.patch.object(self.driver, "spawn") as spawn:
            self.manager.run_instance(ADMIN, instance.uuid)
        kwargs = spawn.call_args.kwargs
        self.assertEqual(kwargs["metadata"], {"ping": "10.0.0.3"})
        self.assertEqual(kwargs["context"].request_id, ADMIN.request_id)

    def test_console_output_is_the_tail_of_the_drivers(self):
        instance = self.placed_instance()
        self.manager.run_instance(ADMIN, instance.uuid)
        whole = "FAKE CONSOLE OUTPUT\nANOTHER\nLAST LINE"
        self.assertEqual(self.manager.get_console_output(ADMIN, instance.uuid), whole)
        self.assertEqual(
            self.manager.get_console_output(ADMIN, instance.uuid, 2), "ANOTHER\nLAST LINE"
        )
        self.assertEqual(self.manager.get_console_output(ADMIN, instance.uuid, 99), whole)
        self.assertEqual(self.manager.get_console_output(ADMIN, instance.uuid, 0), "")
        # Another host's instance, or a guest this host does not have: not found.
        # (raised to the RPC caller as they are: oslo.messaging's expected exceptions)
        instance_db.instance_update(ADMIN, instance.uuid, {"host": "elsewhere"})
        with self.assertRaises(messaging.ExpectedException) as caught:
            self.manager.get_console_output(ADMIN, instance.uuid)
        self.assertIs(caught.exception.exc_info[0], exception.InstanceNotFound)
        instance_db.instance_update(ADMIN, instance.uuid, {"host": HOST})
        self.driver.guests.clear()
        with self.assertRaises(messaging.ExpectedException) as caught:
            self.manager.get_console_output(ADMIN, instance.uuid)
        self.assertIs(caught.exception.exc_info[0], exception.InstanceNotFound)

    def test_network_error_is_rescheduled_away_from_this_host(self):
        self.network.fail = exception.NetworkServiceUnavailable(url="q", reason="down")
        instance = self.placed_instance()
        self.manager.run_instance(ADMIN, instance.uuid, attempt=1, excluded_hosts=[])
        row = self.reload(instance)
        self.assertEqual((row.vm_state, row.task_state, row.host), ("building", "scheduling", None))
        self.scheduler.reschedule.assert_called_once_with(mock.ANY, instance.uuid, 2, [HOST])
        self.assertEqual(self.used_memory(), 0)

    def test_last_attempt_goes_to_error_with_a_fault(self):
        self.driver.fail_spawn = RuntimeError("libvirt exploded")
        instance = self.placed_instance()
        self.manager.run_instance(ADMIN, instance.uuid, attempt=CONF.scheduler.max_attempts)
        row = self.reload(instance)
        self.assertEqual((row.vm_state, row.task_state), ("error", None))
        fault = instance_db.instance_fault_get_latest(ADMIN, [row.id])[row.id]
        self.assertEqual((fault.code, fault.message), (500, "libvirt exploded"))
        self.assertIn("Traceback", fault.details)
        self.scheduler.reschedule.assert_not_called()
        self.assertEqual(self.used_memory(), 0)
        self.assertEqual(self.driver.guests, {})

    def test_invalid_vif_configuration_is_not_rescheduled(self):
        self.network.configuration = {"vif_type": "802.1qbh", "source_dev": "eth 0"}
        self.manager = self.make_manager(libvirt_driver.LibvirtDriver(uri="test:///default"))
        instance = self.placed_instance()
        self.manager.run_instance(ADMIN, instance.uuid)
        row = self.reload(instance)
        self.assertEqual(row.vm_state, "error")
        fault = instance_db.instance_fault_get_latest(ADMIN, [row.id])[row.id]
        self.assertEqual(fault.code, 400)
        self.assertIn("source_dev", fault.message)
        self.scheduler.reschedule.assert_not_called()
        self.assertNotIn(instance.uuid, self.manager.driver.list_instance_uuids())

    def test_image_is_fetched_before_spawn(self):
        self.manager._image = images = mock.Mock()
        images.is_configured.return_value = True
        images.fetch.side_effect = lambda context, image_id: self.assertEqual(
            self.driver.guests, {}
        )
        instance = self.placed_instance()
        self.manager.run_instance(ADMIN, instance.uuid)
        images.fetch.assert_called_once_with(mock.ANY, instance.image_ref)
        self.assertEqual(self.reload(instance).vm_state, "active")

    def test_unknown_image_is_an_error_not_rescheduled(self):
        self.manager._image = images = mock.Mock()
        images.is_configured.return_value = True
        images.fetch.side_effect = exception.ImageNotFound(image_id="gone")
        instance = self.placed_instance()
        self.manager.run_instance(ADMIN, instance.uuid)
        row = self.reload(instance)
        self.assertEqual(row.vm_state, "error")
        fault = instance_db.instance_fault_get_latest(ADMIN, [row.id])[row.id]
        self.assertEqual((fault.code, fault.message), (404, "Image gone could not be found."))
        self.scheduler.reschedule.assert_not_called()
        self.assertEqual(self.driver.guests, {})
        self.assertEqual(self.used_memory(), 0)

    def test_binding_failure_is_not_rescheduled(self):
        self.network.fail = exception.PortBindingFailed(port_id="p", host=HOST, reason="no agent")
        instance = self.placed_instance()
        self.manager.run_instance(ADMIN, instance.uuid)
        self.assertEqual(self.reload(instance).vm_state, "error")
        self.scheduler.reschedule.assert_not_called()

    def test_instance_not_in_scheduling_state_is_left_alone(self):
        instance = self.placed_instance()
        instance_db.instance_update(ADMIN, instance.uuid, {"task_state": vm_states.DELETING})
        self.manager.run_instance(ADMIN, instance.uuid)
        self.assertEqual(self.driver.guests, {})

    def test_terminate_cleans_everything(self):
        instance = self.placed_instance()
        self.manager.run_instance(ADMIN, instance.uuid)
        self.manager.terminate_instance(ADMIN, instance.uuid)
        self.assertEqual(self.driver.guests, {})
        self.assertEqual(self.network.deallocated, [instance.uuid])
        self.assertEqual(self.used_memory(), 0)
        with self.assertRaises(exception.InstanceNotFound):
            self.reload(instance)
        self.manager.terminate_instance(ADMIN, instance.uuid)  # already gone: fine

    def test_init_host_fails_interrupted_builds_and_removes_orphans(self):
        interrupted = self.placed_instance()
        instance_db.instance_update(ADMIN, interrupted.uuid, {"task_state": vm_states.SPAWNING})
        self.driver.guests["orphan-uuid"] = []
        self.manager.init_host()
        row = self.reload(interrupted)
        self.assertEqual(row.vm_state, "error")
        fault = instance_db.instance_fault_get_latest(ADMIN, [row.id])[row.id]
        self.assertIn("restarted", fault.message)
        self.assertEqual(self.driver.guests, {})
        self.assertEqual(self.used_memory(), 0)

    def test_init_host_leaves_builds_placed_here_but_not_started(self):
        placed = self.placed_instance()
        self.manager.init_host()
        row = self.reload(placed)
        self.assertEqual((row.vm_state, row.task_state), ("building", "scheduling"))
        self.assertEqual(self.used_memory(), 512)
        self.manager.run_instance(ADMIN, placed.uuid)  # its message (or the sweep's) builds it
        self.assertEqual(self.reload(placed).vm_state, "active")

    def test_init_host_completes_interrupted_deletes(self):
        instance = self.placed_instance()
        self.manager.run_instance(ADMIN, instance.uuid)
        instance_db.instance_update(ADMIN, instance.uuid, {"task_state": vm_states.DELETING})
        self.manager.init_host()
        with self.assertRaises(exception.InstanceNotFound):
            self.reload(instance)
        self.assertEqual(self.driver.guests, {})
        self.assertEqual(self.network.deallocated, [instance.uuid])
        self.assertEqual(self.used_memory(), 0)

    def test_init_host_shuts_off_active_instances_whose_guest_is_gone(self):
        kept, lost = self.placed_instance(), self.placed_instance()
        self.manager.run_instance(ADMIN, kept.uuid)
        self.manager.run_instance(ADMIN, lost.uuid)
        del self.driver.guests[lost.uuid]  # died with the host, say
        self.manager.init_host()
        self.assertEqual(self.reload(kept).vm_state, "active")
        row = self.reload(lost)
        self.assertEqual((row.vm_state, row.task_state), ("stopped", None))
        self.assertEqual(vm_states.status(row.vm_state), "SHUTOFF")
        self.assertEqual(self.used_memory(), 1024)  # a stopped instance keeps its claim
        self.manager.terminate_instance(ADMIN, lost.uuid)
        self.assertEqual(self.used_memory(), 512)

    def test_init_host_removes_guests_of_deleted_and_moved_instances(self):
        deleted, moved, mine = (self.placed_instance() for _ in range(3))
        for instance in (deleted, moved, mine):
            self.manager.run_instance(ADMIN, instance.uuid)
        instance_db.instance_destroy(ADMIN, deleted.uuid)
        instance_db.instance_update(ADMIN, moved.uuid, {"host": "elsewhere"})
        self.manager.init_host()
        self.assertEqual(set(self.driver.guests), {mine.uuid})

    def test_unexpected_failure_before_building_ends_in_error(self):
        instance = self.placed_instance()
        with mock.patch.object(self.manager, "_set_task", side_effect=RuntimeError("locked")):
            self.manager.run_instance(ADMIN, instance.uuid)
        row = self.reload(instance)
        self.assertEqual(row.vm_state, "error")
        fault = instance_db.instance_fault_get_latest(ADMIN, [row.id])[row.id]
        self.assertIn("Build failed: locked", fault.message)

    # --- deletes meeting builds, and the usage audit -----------------------------------

    def test_delete_during_spawn_gives_the_claim_back_once(self):
        kept = self.placed_instance()
        instance = self.placed_instance()
        real_spawn = self.driver.spawn

        def spawn_while_deleted(guest, network_info, **kwargs):
            real_spawn(guest, network_info, **kwargs)
            # The API marks it and compute's terminate runs while spawn ends.
            instance_db.instance_update(ADMIN, guest.uuid, {"task_state": vm_states.DELETING})
            self.manager.terminate_instance(ADMIN, guest.uuid)

        with mock.patch.object(self.driver, "spawn", side_effect=spawn_while_deleted):
            self.manager.run_instance(ADMIN, instance.uuid)

        with self.assertRaises(exception.InstanceNotFound):
            self.reload(instance)
        self.assertEqual(list(self.driver.guests), [])  # the build removed what it made
        self.assertEqual(self.used_memory(), kept.memory_mb)  # given back once, not twice
        self.scheduler.reschedule.assert_not_called()

    def test_failure_of_a_build_being_deleted_leaves_the_claim_to_the_delete(self):
        instance = self.placed_instance()
        self.driver.fail_spawn = RuntimeError("libvirt exploded")
        real_set_task = self.manager._set_task

        def mark_deleting(context, uuid, task_state, expected_task):
            row = real_set_task(context, uuid, task_state, expected_task)
            if task_state == vm_states.SPAWNING:
                instance_db.instance_update(ADMIN, uuid, {"task_state": vm_states.DELETING})
            return row

        with mock.patch.object(self.manager, "_set_task", side_effect=mark_deleting):
            self.manager.run_instance(ADMIN, instance.uuid)
        row = self.reload(instance)
        self.assertEqual((row.vm_state, row.task_state), ("building", "deleting"))
        self.assertEqual(self.used_memory(), 512)  # still its: the delete gives it back
        self.scheduler.reschedule.assert_not_called()
        self.manager.terminate_instance(ADMIN, instance.uuid)
        self.assertEqual(self.used_memory(), 0)

    def test_usage_audit_at_start_then_every_interval(self):
        CONF.set_override("update_resources_interval", 60)
        self.addCleanup(CONF.clear_override, "update_resources_interval")
        instance = self.placed_instance()
        service = service_db.service_get_or_create(ADMIN, HOST, "nova-compute", {})
        with db_session.writer() as conn:
            conn.exec_driver_sql("UPDATE compute_nodes SET memory_mb_used = 4000")

        with self.assertLogs(manager.LOG, "WARNING") as logged:
            self.manager.update_available_resource(service.id)
        self.assertEqual(
            logged.output,
            [
                f"WARNING:{manager.__name__}:Resource audit of host {HOST} corrected its "
                "usage: memory_mb_used 4000 -> 512"
            ],
        )
        self.assertEqual(self.used_memory(), instance.memory_mb)

        with db_session.writer() as conn:
            conn.exec_driver_sql("UPDATE compute_nodes SET memory_mb_used = 4000")
        self.manager.update_available_resource(service.id)  # not due for 60 s
        self.assertEqual(self.used_memory(), 4000)
        with mock.patch.object(manager.time, "monotonic", return_value=time.monotonic() + 61):
            self.manager.update_available_resource(service.id)
        self.assertEqual(self.used_memory(), 512)
