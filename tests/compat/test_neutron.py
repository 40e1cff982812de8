"""The clients against nova-all on the neutron backend, with the real Neutron of run_tests.sh.

``openstack server create --nic port-id=…`` finds the port in the Neutron
API before it calls Nova, and openstacksdk's cloud layer
(``create_server(..., wait=True)``) waits for the server's addresses: both
need the network service to be Neutron. nova-all runs with
``[network] backend = neutron`` on the host of Neutron's registered Open
vSwitch agent; the clients' clouds.yaml points the network endpoint at
Neutron. Skipped without ``NOVA_TEST_NEUTRON_URL`` unless required.
"""

from __future__ import annotations

import os
import sqlite3

import requests

from tests.compat import base
from tests.fixtures import databases


class NeutronClientTestCase(base.ClientTestCase):
    uses_glance = True

    def setUp(self) -> None:
        self.neutron = databases.neutron_url(self)
        self.host = os.environ.get("NOVA_TEST_NEUTRON_HOST", "")
        if not self.host:
            self.fail("NOVA_TEST_NEUTRON_URL is set but NOVA_TEST_NEUTRON_HOST is not")
        self.extra_config = (
            f"host = {self.host}\n[network]\nbackend = neutron\n[neutron]\nurl = {self.neutron}\n"
        )
        super().setUp()
        self.network = self.neutron_call(
            "POST",
            "networks",
            {"network": {"name": f"compat-{self.id()}"[-200:], "project_id": base.PROJECT}},
        )["network"]
        self.addCleanup(self.delete_network, self.network["id"])
        self.subnet = self.neutron_call(
            "POST",
            "subnets",
            {
                "subnet": {
                    "network_id": self.network["id"],
                    "ip_version": 4,
                    "cidr": "10.77.0.0/24",
                    "project_id": base.PROJECT,
                }
            },
        )["subnet"]

    def clouds_text(self) -> str:
        # Neutron for ports (and the Glance test server for images).
        return super().clouds_text() + f"    network_endpoint_override: {self.neutron}/\n"

    def neutron_call(self, method: str, path: str, body=None):
        response = requests.request(
            method,
            f"{self.neutron}/v2.0/{path}",
            json=body,
            timeout=60,
            proxies={"http": "", "https": ""},
        )
        self.assertLess(response.status_code, 300, f"{method} {path}: {response.text[:500]}")
        return response.json() if response.content else None

    def delete_network(self, network_id: str) -> None:
        """Delete the network and the ports left on it (the users' ports outlive servers)."""
        ports = self.neutron_call("GET", f"ports?network_id={network_id}")["ports"]
        for port in ports:
            self.neutron_call("DELETE", f"ports/{port['id']}")
        self.neutron_call("DELETE", f"networks/{network_id}")

    def make_neutron_port(self) -> dict:
        port = self.neutron_call(
            "POST",
            "ports",
            {"port": {"network_id": self.network["id"], "project_id": base.PROJECT}},
        )["port"]
        return port

    def db_rows(self, query: str, *params) -> list:
        with sqlite3.connect(os.path.join(self.state, "nova.sqlite")) as db:
            return db.execute(query, params).fetchall()

    def test_openstack_server_create_on_a_port_list_show_delete(self):
        port = self.make_neutron_port()
        server = self.openstack(
            "server",
            "create",
            "--image",
            self.image["name"],
            "--flavor",
            "m1.tiny",
            "--nic",
            f"port-id={port['id']}",
            "--wait",
            "vm1",
        )
        self.assertEqual(server["status"], "ACTIVE")
        server_id = server["id"]
        self.assertEqual(
            self.db_rows("SELECT vm_state, project_id FROM instances WHERE uuid = ?", server_id),
            [("active", base.PROJECT)],
        )
        bound = self.neutron_call("GET", f"ports/{port['id']}")["port"]
        self.assertEqual((bound["device_id"], bound["binding:host_id"]), (server_id, self.host))

        listed = self.openstack("server", "list")
        self.assertEqual(
            [(s["ID"], s["Name"], s["Status"]) for s in listed], [(server_id, "vm1", "ACTIVE")]
        )
        (fixed_ip,) = port["fixed_ips"]
        self.assertIn(fixed_ip["ip_address"], str(listed[0]["Networks"]))
        shown = self.openstack("server", "show", "vm1")
        self.assertEqual((shown["id"], shown["status"]), (server_id, "ACTIVE"))

        self.openstack_plain("server", "delete", "--wait", "vm1")
        self.assertEqual(self.call("GET", f"/servers/{server_id}").status_code, 404)
        kept = self.neutron_call("GET", f"ports/{port['id']}")["port"]  # the user's: unbound
        self.assertEqual((kept["device_id"], kept["binding:host_id"]), ("", ""))

    def test_sdk_cloud_layer_create_server_wait(self):
        port = self.make_neutron_port()
        result = self.python(
            """
import json, openstack
conn = openstack.connect(cloud="nova-l2")
server = conn.create_server(
    "sdk-wait", image=IMAGE, flavor="m1.tiny", nics=[{"port-id": PORT}],
    wait=True, timeout=120,
)
found = conn.get_server("sdk-wait")
out = {"id": server.id, "status": server.status, "addresses": server.addresses,
       "found": found.id if found else None}
assert conn.delete_server(server.id, wait=True, timeout=120)
out["after"] = conn.get_server(server.id)
print(json.dumps(out))
""".replace("PORT", repr(port["id"])).replace("IMAGE", repr(self.image["name"]))
        )
        self.assertEqual((result["status"], result["found"]), ("ACTIVE", result["id"]))
        (fixed_ip,) = port["fixed_ips"]
        self.assertEqual(
            [a["addr"] for a in result["addresses"][self.network["name"]]],
            [fixed_ip["ip_address"]],
        )
        self.assertIsNone(result["after"])
        self.assertEqual(self.call("GET", f"/servers/{result['id']}").status_code, 404)
