"""Nova's neutron backend against the real Neutron server ``run_tests.sh`` starts."""

from __future__ import annotations

import uuid

import nova.conf
from nova import context as nova_context
from nova import exception
from nova.db import instances as instance_db
from nova.db import virtual_interfaces as vif_db
from nova.network import model
from nova.network.neutron import api as neutron_api
from tests.fixtures import databases
from tests.integration import test_neutron_server

CONF = nova.conf.CONF


class TestNeutronBackend(test_neutron_server.NeutronServerTestCase, databases.SchemaTestCase):
    def setUp(self) -> None:
        super().setUp()
        CONF.set_override("url", self.url, group="neutron")
        self.addCleanup(CONF.clear_override, "url", group="neutron")
        self.api = neutron_api.NeutronAPI()
        self.api.client.session.trust_env = False
        self.addCleanup(self.api.client.close)
        self.context = nova_context.RequestContext("alice", self.project_id)
        self.instance = instance_db.instance_create(
            self.context,
            {"project_id": self.project_id, "user_id": "alice", "availability_zone": "nova"},
        )
        self.network = self.create_network()

    def vifs(self):
        return vif_db.virtual_interface_get_by_instance(self.context, self.instance.id)

    def test_allocate_bind_and_deallocate(self):
        user_port = self.create_port(self.network)
        requested = [
            model.RequestedNetwork(network_id=self.network["id"]),
            model.RequestedNetwork(port_id=user_port["id"]),
        ]
        self.api.validate_networks(self.context, requested, max_count=1)

        made_rows = self.api.allocate_for_instance(self.context, self.instance, requested)
        info = self.api.get_instance_nw_info(self.context, self.instance)

        self.assertEqual([row.uuid for row in made_rows], [vif.id for vif in info])
        made, brought = info
        self.assertEqual(brought.id, user_port["id"])  # the VIF uuid is the port id
        self.assertEqual(brought.address, user_port["mac_address"])
        self.assertEqual([vif.vif_type for vif in info], ["unbound", "unbound"])
        rows = self.vifs()
        self.assertEqual(
            [(r.network_id, r.port_id) for r in rows],
            [(None, made.port_id), (None, user_port["id"])],
        )
        self.assertEqual(
            self.request("GET", f"ports/{made.port_id}")["port"]["device_id"], self.instance.uuid
        )

        bound = self.api.bind_for_host(self.context, self.instance, self.host)

        self.assertEqual([vif.vif_type for vif in bound], ["ovs", "ovs"])
        self.assertEqual(bound[0].configuration["bridge"], "br-int")
        self.assertEqual(bound[0].configuration["ovs_hybrid_plug"], "false")
        self.assertEqual(bound[0].network.id, self.network["id"])
        self.assertEqual(self.api.get_instance_nw_info(self.context, self.instance), bound)
        port = self.request("GET", f"ports/{brought.port_id}")["port"]
        self.assertEqual(
            (port["binding:host_id"], port["device_id"], port["device_owner"]),
            (self.host, self.instance.uuid, "compute:nova"),
        )

        self.api.deallocate_for_instance(self.context, self.instance)

        self.request("GET", f"ports/{made.port_id}", expect=404)  # Nova's port: deleted
        kept = self.request("GET", f"ports/{user_port['id']}")["port"]  # the user's: unbound
        self.assertEqual((kept["device_id"], kept["binding:host_id"]), ("", ""))
        self.assertEqual(kept["binding:vif_type"], "unbound")
        self.assertEqual(self.vifs(), [])
        self.api.deallocate_for_instance(self.context, self.instance)

    def test_unknown_host_is_a_clear_binding_error(self):
        self.api.allocate_for_instance(
            self.context, self.instance, [model.RequestedNetwork(network_id=self.network["id"])]
        )
        with self.assertRaisesRegex(exception.PortBindingFailed, "binding_failed"):
            self.api.bind_for_host(self.context, self.instance, f"no-agent-{uuid.uuid4().hex[:6]}")
        port = self.request("GET", f"ports/{self.vifs()[0].port_id}")["port"]
        self.assertEqual(port["binding:host_id"], "")
        self.api.deallocate_for_instance(self.context, self.instance)

    def test_validation(self):
        foreign_project = uuid.uuid4().hex
        foreign = self.request(
            "POST",
            "ports",
            {"port": {"network_id": self.network["id"], "project_id": foreign_project}},
            expect=201,
        )["port"]
        self.addCleanup(self.delete_if_present, f"ports/{foreign['id']}")
        busy = self.create_port(self.network)
        self.request("PUT", f"ports/{busy['id']}", {"port": {"device_id": "someone-else"}})
        free = self.create_port(self.network)
        other_network = self.request(
            "POST",
            "networks",
            {"network": {"name": "x", "project_id": foreign_project}},
            expect=201,
        )["network"]
        self.addCleanup(self.delete_if_present, f"networks/{other_network['id']}")
        cases = [
            ([model.RequestedNetwork(port_id=foreign["id"])], 1, exception.PortNotFound),
            ([model.RequestedNetwork(port_id=str(uuid.uuid4()))], 1, exception.PortNotFound),
            ([model.RequestedNetwork(port_id=busy["id"])], 1, exception.PortInUse),
            ([model.RequestedNetwork(port_id=free["id"])], 2, exception.Invalid),
            (
                [model.RequestedNetwork(network_id=other_network["id"])],
                1,
                exception.NetworkNotFound,
            ),
        ]
        for requested, max_count, error in cases:
            with self.subTest(requested=requested):
                with self.assertRaises(error):
                    self.api.validate_networks(self.context, requested, max_count)

    def test_failed_allocation_leaves_nothing_behind(self):
        busy = self.create_port(self.network)
        self.request("PUT", f"ports/{busy['id']}", {"port": {"device_id": "someone-else"}})
        before = {
            p["id"] for p in self.request("GET", f"ports?network_id={self.network['id']}")["ports"]
        }
        requested = [
            model.RequestedNetwork(network_id=self.network["id"]),
            model.RequestedNetwork(port_id=busy["id"]),
        ]
        with self.assertRaises(exception.PortInUse):
            self.api.allocate_for_instance(self.context, self.instance, requested)
        after = {
            p["id"] for p in self.request("GET", f"ports?network_id={self.network['id']}")["ports"]
        }
        self.assertEqual(after, before)
        self.assertEqual(self.vifs(), [])

    def other_instance(self):
        return instance_db.instance_create(
            self.context,
            {"project_id": self.project_id, "user_id": "alice", "availability_zone": "nova"},
        )

    def test_a_kept_port_serves_the_next_server(self):
        user_port = self.create_port(self.network)
        requested = [model.RequestedNetwork(port_id=user_port["id"])]
        self.api.allocate_for_instance(self.context, self.instance, requested)
        self.api.bind_for_host(self.context, self.instance, self.host)
        self.api.deallocate_for_instance(self.context, self.instance)
        instance_db.instance_destroy(self.context, self.instance.uuid)

        # The deleted server's VIF row (soft-deleted) has the port's id as its
        # uuid too; it must not stand in the way.
        second = self.other_instance()
        self.api.validate_networks(self.context, requested, max_count=1)
        (vif,) = self.api.allocate_for_instance(self.context, second, requested)
        self.assertEqual(vif.uuid, user_port["id"])
        (bound,) = self.api.bind_for_host(self.context, second, self.host)
        self.assertEqual(bound.vif_type, "ovs")
        port = self.request("GET", f"ports/{user_port['id']}")["port"]
        self.assertEqual(port["device_id"], second.uuid)
        self.api.deallocate_for_instance(self.context, second)

    def test_a_port_taken_by_another_device_is_neither_bound_nor_released(self):
        self.api.allocate_for_instance(
            self.context, self.instance, [model.RequestedNetwork(network_id=self.network["id"])]
        )
        (vif,) = self.vifs()
        self.request("PUT", f"ports/{vif.port_id}", {"port": {"device_id": "someone-else"}})
        self.addCleanup(self.delete_if_present, f"ports/{vif.port_id}")

        with self.assertRaisesRegex(exception.PortAttachedElsewhere, vif.port_id):
            self.api.bind_for_host(self.context, self.instance, self.host)
        port = self.request("GET", f"ports/{vif.port_id}")["port"]
        self.assertEqual((port["device_id"], port["binding:host_id"]), ("someone-else", ""))

        self.api.deallocate_for_instance(self.context, self.instance)
        port = self.request("GET", f"ports/{vif.port_id}")["port"]  # not deleted: not Nova's now
        self.assertEqual(port["device_id"], "someone-else")
        self.assertEqual(self.vifs(), [])
