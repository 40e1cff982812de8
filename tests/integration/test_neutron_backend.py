"""Nova's neutron backend against the real Neutron server ``run_tests.sh`` starts."""

from __future__ import annotations

import ipaddress
import shutil
import tempfile
import time
import uuid
from unittest import mock

import openstack

import nova.conf
from nova import context as nova_context
from nova import exception
from nova.api.openstack import router
from nova.db import instances as instance_db
from nova.db import virtual_interfaces as vif_db
from nova.network import model
from nova.network.neutron import api as neutron_api
from tests.fixtures import clients
from tests.fixtures import databases
from tests.fixtures import processes
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


def create_subnet(
    test: test_neutron_server.NeutronServerTestCase, network: dict, cidr: str
) -> dict:
    """Give ``network`` an IPv4 subnet (its ports then get fixed IPs)."""
    body = {
        "subnet": {
            "network_id": network["id"],
            "ip_version": 4,
            "cidr": cidr,
            "project_id": test.project_id,
        }
    }
    subnet = test.request("POST", "subnets", body, expect=201)["subnet"]
    test.addCleanup(test.delete_if_present, f"subnets/{subnet['id']}")
    return subnet


class TestNeutronAddresses(test_neutron_server.NeutronServerTestCase, databases.SchemaTestCase):
    """The compute API (in-process) on the neutron backend: addresses, /ips, os-interface."""

    def setUp(self) -> None:
        super().setUp()
        for name, value, group in (("url", self.url, "neutron"), ("backend", "neutron", "network")):
            CONF.set_override(name, value, group=group)
            self.addCleanup(CONF.clear_override, name, group=group)
        scheduler = mock.patch("nova.scheduler.rpcapi.SchedulerAPI.run_instances")
        scheduler.start()
        self.addCleanup(scheduler.stop)
        self.app = router.APIRouter()
        self.addCleanup(lambda: self.app.compute_api.network.client.close())
        self.app.compute_api.network.client.session.trust_env = False
        self.token = f"alice:{self.project_id}"

    def api(self, method: str, path: str, body=None, token: str | None = None):
        return clients.wsgi_request(self.app, method, path, body, token or self.token)

    def named_network(self, name: str) -> dict:
        network = self.create_network()
        body = {"network": {"name": name}}
        return self.request("PUT", f"networks/{network['id']}", body)["network"]

    def test_fixed_ips_in_views_ips_and_os_interface(self):
        # Addresses are keyed by network name (as in Nova): two names here.
        first = self.named_network("first")
        first_subnet = create_subnet(self, first, "10.20.0.0/24")
        second = self.named_network("second")
        create_subnet(self, second, "10.30.0.0/24")
        user_port = self.create_port(second)
        body = {
            "server": {
                "name": "vm",
                "imageRef": "cirros",
                "flavorRef": "1",
                "networks": [{"uuid": first["id"]}, {"port": user_port["id"]}],
            }
        }
        created = self.api("POST", "/v2.1/servers", body)
        self.assertEqual(created.status_int, 202, created.text)
        server_id = created.json["server"]["id"]
        self.addCleanup(self.api, "DELETE", f"/v2.1/servers/{server_id}")
        ports = {
            port["network_id"]: port
            for port in self.request("GET", f"ports?device_id={server_id}")["ports"]
        }
        self.assertEqual(set(ports), {first["id"], second["id"]})

        view = self.api("GET", f"/v2.1/servers/{server_id}").json["server"]["addresses"]
        self.assertEqual(set(view), {first["name"], second["name"]})
        for network, cidr in ((first, "10.20.0.0/24"), (second, "10.30.0.0/24")):
            (address,) = view[network["name"]]
            port = ports[network["id"]]
            self.assertEqual(
                address,
                {
                    "version": 4,
                    "addr": port["fixed_ips"][0]["ip_address"],
                    "OS-EXT-IPS:type": "fixed",
                    "OS-EXT-IPS-MAC:mac_addr": port["mac_address"],
                },
            )
            self.assertIn(ipaddress.ip_address(address["addr"]), ipaddress.ip_network(cidr))
        # The detail list shows the same; the summary list does not read them.
        (listed,) = self.api("GET", "/v2.1/servers/detail").json["servers"]
        self.assertEqual(listed["addresses"], view)

        ips = self.api("GET", f"/v2.1/servers/{server_id}/ips")
        self.assertEqual(ips.status_int, 200)
        self.assertEqual(
            ips.json["addresses"],
            {
                label: [{"version": 4, "addr": a["addr"]} for a in items]
                for label, items in view.items()
            },
        )
        one = self.api("GET", f"/v2.1/servers/{server_id}/ips/{first['name']}")
        self.assertEqual(one.json, {first["name"]: ips.json["addresses"][first["name"]]})
        self.assertEqual(self.api("GET", f"/v2.1/servers/{server_id}/ips/nope").status_int, 404)

        interfaces = self.api("GET", f"/v2.1/servers/{server_id}/os-interface")
        self.assertEqual(interfaces.status_int, 200, interfaces.text)
        by_port = {i["port_id"]: i for i in interfaces.json["interfaceAttachments"]}
        self.assertEqual(set(by_port), {port["id"] for port in ports.values()})
        made = by_port[ports[first["id"]]["id"]]
        self.assertEqual(
            made,
            {
                "port_id": ports[first["id"]]["id"],
                "net_id": first["id"],
                "mac_addr": ports[first["id"]]["mac_address"],
                "port_state": ports[first["id"]]["status"],
                "fixed_ips": [
                    {"subnet_id": first_subnet["id"], "ip_address": view[first["name"]][0]["addr"]}
                ],
            },
        )
        shown = self.api("GET", f"/v2.1/servers/{server_id}/os-interface/{user_port['id']}")
        self.assertEqual(shown.json["interfaceAttachment"], by_port[user_port["id"]])
        for path in ("", "/ips", "/os-interface"):
            with self.subTest(path=path):
                foreign = self.api("GET", f"/v2.1/servers/{server_id}{path}", token="eve:other")
                self.assertEqual(foreign.status_int, 404)

    def test_a_network_without_subnet_and_a_server_without_nics_show_no_addresses(self):
        network = self.create_network()
        for networks in ([{"uuid": network["id"]}], "none"):
            body = {
                "server": {"name": "vm", "imageRef": "c", "flavorRef": "1", "networks": networks}
            }
            created = self.api("POST", "/v2.1/servers", body)
            self.assertEqual(created.status_int, 202, created.text)
            server_id = created.json["server"]["id"]
            self.addCleanup(self.api, "DELETE", f"/v2.1/servers/{server_id}")
            with self.subTest(networks=networks):
                shown = self.api("GET", f"/v2.1/servers/{server_id}").json["server"]
                self.assertEqual(shown["addresses"], {})
                ips = self.api("GET", f"/v2.1/servers/{server_id}/ips").json
                self.assertEqual(ips, {"addresses": {}})


class TestOpenStackSDKOnNeutron(test_neutron_server.NeutronServerTestCase):
    """openstacksdk's ``create_server(..., wait=True)`` against nova-all on the neutron backend.

    The cloud layer waits for ACTIVE *and* an address; nova-all's compute
    runs on the host of Neutron's registered agent, so the ports bind.
    """

    def setUp(self) -> None:
        super().setUp()
        state = tempfile.mkdtemp(prefix="nova-all-neutron-")
        self.addCleanup(shutil.rmtree, state, ignore_errors=True)
        self.nova_all = processes.NovaAll(
            state,
            host=self.host,
            options={
                "DEFAULT": {"ram_allocation_ratio": 16},
                "network": {"backend": "neutron"},
                "neutron": {"url": self.url},
            },
        )
        self.addCleanup(self.nova_all.close)
        self.nova_all.start()
        self.nova_all.wait_ready()
        self.conn = openstack.connect(
            auth_type="none",
            auth={"endpoint": self.nova_all.api},
            compute_endpoint_override=self.nova_all.api,
        )
        self.addCleanup(self.conn.close)

    def test_create_server_wait_true_gets_its_address(self):
        # openstacksdk with auth type none is project "notused" (X-Auth-Token: notused).
        self.project_id = "notused"
        network = self.create_network()
        create_subnet(self, network, "10.40.0.0/24")
        server = self.conn.create_server(
            "sdk-neutron",
            image={"id": "cirros"},
            flavor={"id": "1"},
            network=None,
            nics=[{"net-id": network["id"]}],
            wait=True,
            timeout=60,
        )
        self.assertEqual(server.status, "ACTIVE")
        ((label, (address,)),) = server.addresses.items()
        self.assertEqual(label, network["name"])
        self.assertIn(ipaddress.ip_address(address["addr"]), ipaddress.ip_network("10.40.0.0/24"))
        (port,) = self.request("GET", f"ports?device_id={server.id}")["ports"]
        self.assertEqual(address["OS-EXT-IPS-MAC:mac_addr"], port["mac_address"])
        self.assertEqual(port["binding:host_id"], self.host)
        self.assertTrue(self.conn.delete_server(server.id, wait=True, timeout=60))
        deadline = time.monotonic() + 30
        while self.request("GET", f"ports?device_id={server.id}")["ports"]:
            if time.monotonic() > deadline:
                raise AssertionError("the server's port was not deleted")
            time.sleep(0.2)
