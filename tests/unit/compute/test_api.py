"""The compute API's delete against a scheduler claiming at the same moment."""

from __future__ import annotations

from unittest import mock

from nova import context as nova_context
from nova import exception
from nova.compute import api as compute_api
from nova.compute import vm_states
from nova.db import instances as instance_db
from nova.db import services as service_db
from nova.scheduler import manager as scheduler_manager
from tests.fixtures import databases
from tests.fixtures import hosts
from tests.unit.compute import test_manager

ADMIN = nova_context.get_admin_context()
USER = nova_context.RequestContext("alice", "p")
HOST = "compute1"


class DeleteWhileSchedulingTestCase(databases.SchemaTestCase):
    def setUp(self) -> None:
        super().setUp()
        hosts.add_compute_host(HOST)
        self.network = test_manager.StubNetwork()
        self.compute = mock.Mock()
        self.api = compute_api.API(
            network=self.network, scheduler=mock.Mock(), compute=self.compute
        )
        self.scheduler = scheduler_manager.SchedulerManager(compute=mock.Mock())
        self.instance = hosts.building_instance(USER)

    def usage(self) -> int:
        node = {n.host: n for _s, n in service_db.compute_hosts(ADMIN)}[HOST]
        assert node is not None
        return node.memory_mb_used

    def test_a_claim_made_before_the_mark_sends_the_delete_to_the_host(self):
        real_update = instance_db.instance_update
        claims = [self.instance]

        def claim_first(context, uuid, values, expected=None):
            if claims:  # the scheduler wins the race, between the read and the mark
                self.assertIsNotNone(self.scheduler.select_and_claim(ADMIN, claims.pop()))
            return real_update(context, uuid, values, expected)

        with mock.patch.object(instance_db, "instance_update", side_effect=claim_first):
            self.api.delete(USER, self.instance.uuid)

        self.compute.terminate_instance.assert_called_once_with(USER, HOST, self.instance.uuid)
        self.assertEqual(self.network.deallocated, [])  # not deleted here
        row = instance_db.instance_get_by_uuid(ADMIN, self.instance.uuid)
        self.assertEqual((row.host, row.task_state), (HOST, vm_states.DELETING))
        self.assertEqual(self.usage(), 512)  # the host's delete gives it back

    def test_a_claim_after_the_mark_is_refused_and_the_delete_runs_here(self):
        real_deallocate = self.network.deallocate_for_instance
        refused = []

        def claim_during_local_delete(context, instance):
            real_deallocate(context, instance)
            with self.assertRaises(exception.InstanceInvalidState):
                self.scheduler.select_and_claim(ADMIN, self.instance)
            refused.append(instance.uuid)

        with mock.patch.object(
            self.network, "deallocate_for_instance", side_effect=claim_during_local_delete
        ):
            self.api.delete(USER, self.instance.uuid)

        self.assertEqual(refused, [self.instance.uuid])
        self.compute.terminate_instance.assert_not_called()
        with self.assertRaises(exception.InstanceNotFound):
            instance_db.instance_get_by_uuid(ADMIN, self.instance.uuid)
        self.assertEqual(self.usage(), 0)

    def test_a_server_being_deleted_cannot_be_launched(self):
        defined = instance_db.instance_create(
            USER, {"project_id": "p", "vm_state": vm_states.DEFINED}
        )
        instance_db.instance_update(USER, defined.uuid, {"task_state": vm_states.DELETING})
        with self.assertRaises(exception.InstanceInvalidState):
            self.api.launch(USER, defined.uuid)
        self.api.scheduler.run_instances.assert_not_called()
