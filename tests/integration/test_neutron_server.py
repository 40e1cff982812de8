"""The real Neutron server that ``run_tests.sh`` starts (``start_neutron``).

Proves over HTTP what Nova's Neutron backend relies on: a network and a port
can be created (no authentication: ``project_id`` goes in the bodies), and
binding the port the way Nova does (``PUT /v2.0/ports/{id}`` with
``binding:host_id``, ``device_id`` and ``device_owner``) gives
``binding:vif_type`` ``ovs`` on the host of the registered Open vSwitch
agent (``NOVA_TEST_NEUTRON_HOST``), and ``binding_failed`` on any other host.

Skipped without ``NOVA_TEST_NEUTRON_URL`` unless ``NOVA_TEST_REQUIRE_SERVICES``
names ``neutron``. Requests are sent one at a time: Neutron runs on SQLite.
"""

from __future__ import annotations

import os
import unittest
import uuid

import requests

from tests.fixtures.databases import neutron_url

TIMEOUT = 60


class NeutronServerTestCase(unittest.TestCase):
    """A client for the test Neutron server in ``self.api``."""

    def setUp(self) -> None:
        super().setUp()
        self.url = neutron_url(self)
        self.host = os.environ.get("NOVA_TEST_NEUTRON_HOST", "")
        if not self.host:
            self.fail("NOVA_TEST_NEUTRON_URL is set but NOVA_TEST_NEUTRON_HOST is not")
        self.session = requests.Session()
        # The server is on 127.0.0.1: keep http_proxy & co out of it.
        self.session.trust_env = False
        self.addCleanup(self.session.close)
        self.project_id = uuid.uuid4().hex

    def request(self, method: str, path: str, body: dict | None = None, expect: int = 200):
        response = self.session.request(
            method, f"{self.url}/v2.0/{path}", json=body, timeout=TIMEOUT
        )
        self.assertEqual(
            response.status_code,
            expect,
            f"{method} /v2.0/{path} answered {response.status_code}: {response.text[:2000]}",
        )
        return response.json() if response.content else None

    def delete_if_present(self, path: str) -> None:
        response = self.session.delete(f"{self.url}/v2.0/{path}", timeout=TIMEOUT)
        if response.status_code not in (204, 404):
            raise AssertionError(f"DELETE /v2.0/{path}: {response.status_code} {response.text}")

    def create_network(self) -> dict:
        body = {"network": {"name": f"nova-test-{self.id()}"[-255:], "project_id": self.project_id}}
        network = self.request("POST", "networks", body, expect=201)["network"]
        self.addCleanup(self.delete_if_present, f"networks/{network['id']}")
        return network

    def create_port(self, network: dict) -> dict:
        body = {"port": {"network_id": network["id"], "project_id": self.project_id}}
        port = self.request("POST", "ports", body, expect=201)["port"]
        # Cleanups run last-in first-out: the port goes before its network.
        self.addCleanup(self.delete_if_present, f"ports/{port['id']}")
        return port

    def bind(self, port: dict, host: str, instance_uuid: str) -> dict:
        """Bind ``port`` to ``host`` as Nova does; return the updated port."""
        body = {
            "port": {
                "binding:host_id": host,
                "device_id": instance_uuid,
                "device_owner": "compute:nova",
            }
        }
        return self.request("PUT", f"ports/{port['id']}", body)["port"]


class TestNeutronServer(NeutronServerTestCase):
    def test_api_and_binding_extension(self):
        self.request("GET", "networks")
        aliases = {ext["alias"] for ext in self.request("GET", "extensions")["extensions"]}
        self.assertIn("binding", aliases)
        self.assertIn("port-security", aliases)

    def test_agent_registered_for_test_host(self):
        agents = self.request("GET", f"agents?host={self.host}")["agents"]
        self.assertEqual([agent["agent_type"] for agent in agents], ["Open vSwitch agent"])
        agent = agents[0]
        self.assertTrue(agent["alive"])
        self.assertTrue(agent["admin_state_up"])
        self.assertEqual(agent["configurations"]["integration_bridge"], "br-int")
        self.assertEqual(agent["configurations"]["datapath_type"], "system")

    def test_network_and_port_in_project(self):
        network = self.create_network()
        self.assertEqual(network["project_id"], self.project_id)
        self.assertEqual(network["provider:network_type"], "local")
        self.assertEqual(network["status"], "ACTIVE")
        port = self.create_port(network)
        self.assertEqual(port["project_id"], self.project_id)
        self.assertEqual(port["network_id"], network["id"])
        self.assertRegex(port["mac_address"], r"^fa:16:3e(:[0-9a-f]{2}){3}$")
        self.assertEqual(port["binding:host_id"], "")
        self.assertEqual(port["binding:vif_type"], "unbound")
        self.assertEqual(port["binding:vnic_type"], "normal")
        listed = self.request("GET", f"ports?network_id={network['id']}")["ports"]
        self.assertEqual([p["id"] for p in listed], [port["id"]])

    def test_bind_port_to_agent_host_gives_ovs(self):
        port = self.create_port(self.create_network())
        instance_uuid = str(uuid.uuid4())

        bound = self.bind(port, self.host, instance_uuid)

        self.assertEqual(bound["binding:host_id"], self.host)
        self.assertEqual(bound["device_id"], instance_uuid)
        self.assertEqual(bound["device_owner"], "compute:nova")
        self.assertEqual(bound["binding:vif_type"], "ovs")
        details = bound["binding:vif_details"]
        self.assertEqual(details["bridge_name"], "br-int")
        self.assertEqual(details["datapath_type"], "system")
        self.assertIs(details["port_filter"], True)
        self.assertIs(details["ovs_hybrid_plug"], False)

        # Nova reads the port back after binding it.
        read = self.request("GET", f"ports/{port['id']}")["port"]
        self.assertEqual(read["binding:vif_type"], "ovs")
        self.assertEqual(read["binding:vif_details"]["bridge_name"], "br-int")
        self.assertEqual(read["binding:host_id"], self.host)
        self.assertEqual(read["device_id"], instance_uuid)

    def test_bind_port_to_unknown_host_fails(self):
        port = self.create_port(self.create_network())
        host = f"nova-test-no-agent-{uuid.uuid4().hex[:8]}"

        bound = self.bind(port, host, str(uuid.uuid4()))

        self.assertEqual(bound["binding:host_id"], host)
        self.assertEqual(bound["binding:vif_type"], "binding_failed")
        read = self.request("GET", f"ports/{port['id']}")["port"]
        self.assertEqual(read["binding:vif_type"], "binding_failed")

    def test_unbind_port(self):
        port = self.create_port(self.create_network())
        self.assertEqual(self.bind(port, self.host, str(uuid.uuid4()))["binding:vif_type"], "ovs")

        # What Nova sends when it lets go of a port it did not create.
        body = {"port": {"binding:host_id": "", "device_id": "", "device_owner": ""}}
        unbound = self.request("PUT", f"ports/{port['id']}", body)["port"]

        self.assertEqual(unbound["binding:vif_type"], "unbound")
        self.assertEqual(unbound["binding:vif_details"], {})
        self.assertEqual(unbound["device_id"], "")

    def test_delete_port_and_network(self):
        network = self.create_network()
        port = self.create_port(network)
        self.bind(port, self.host, str(uuid.uuid4()))

        self.request("DELETE", f"ports/{port['id']}", expect=204)
        self.request("GET", f"ports/{port['id']}", expect=404)
        self.request("DELETE", f"networks/{network['id']}", expect=204)
        self.request("GET", f"networks/{network['id']}", expect=404)
        self.assertEqual(self.request("GET", f"ports?network_id={network['id']}")["ports"], [])
