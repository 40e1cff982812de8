"""The read-only Neutron v2.0 view of the tenant's ports (quantum/api/ports_v2.py)."""

from __future__ import annotations

import uuid
from unittest import mock

import webob
from lxml import etree

from tests.fixtures import quantum as quantum_fixtures

T1 = "/v1.1/tenants/t1"
PORTS = "/v2.0/ports"


class PortsV2TestCase(quantum_fixtures.QuantumTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.net_a = self.create_network(name="a")
        self.net_b = self.create_network(name="b")
        self.port_a = self.create_port(self.net_a)
        self.port_b = self.create_port(self.net_b, body={"port": {"state": "ACTIVE"}})
        other_net = self.create_network(tenant="t2", token="bob:t2")
        self.other_port = self.create_port(other_net, tenant="t2", token="bob:t2")
        attached = self.request(
            "PUT",
            f"{T1}/networks/{self.net_b}/ports/{self.port_b}/attachment",
            {"attachment": {"id": "vif-1"}},
        )
        self.assertEqual(attached.status_int, 204, attached.text)

    def expected(self, port_id: str, net_id: str, status: str, up: bool) -> dict:
        return {
            "id": port_id,
            "name": "",
            "network_id": net_id,
            "tenant_id": "t1",
            "project_id": "t1",
            "status": status,
            "admin_state_up": up,
            "device_id": "",
            "device_owner": "",
            "fixed_ips": [],
        }

    def test_show_has_neutrons_fields(self):
        response = self.request("GET", f"{PORTS}/{self.port_a}")
        self.assertEqual(response.status_int, 200, response.text)
        self.assertEqual(
            response.json, {"port": self.expected(self.port_a, self.net_a, "DOWN", False)}
        )
        attached = self.request("GET", f"{PORTS}/{self.port_b}").json["port"]
        self.assertEqual(attached, self.expected(self.port_b, self.net_b, "ACTIVE", True))

    def test_list_is_the_tenants_ports_on_all_its_networks(self):
        response = self.request("GET", PORTS)
        self.assertEqual(response.status_int, 200, response.text)
        self.assertEqual(
            response.json["ports"],
            [
                self.expected(self.port_a, self.net_a, "DOWN", False),
                self.expected(self.port_b, self.net_b, "ACTIVE", True),
            ],
        )
        self.assertEqual(
            [p["id"] for p in self.request("GET", PORTS, token="bob:t2").json["ports"]],
            [self.other_port],
        )
        self.assertEqual(self.request("GET", PORTS, token="carol:t3").json, {"ports": []})

    def test_another_tenants_port_is_404_for_users_and_admins(self):
        for token in ("alice:t1", "admin:t1"):
            with self.subTest(token=token):
                response = self.request("GET", f"{PORTS}/{self.other_port}", token=token)
                self.assertEqual(response.status_int, 404, response.text)
                fault = response.json["portNotFound"]
                self.assertEqual(fault["code"], 404)
                self.assertEqual(fault["message"], f"Port {self.other_port} could not be found.")
                listed = self.request("GET", f"{PORTS}?id={self.other_port}", token=token)
                self.assertEqual(listed.json, {"ports": []})
        unknown = self.request("GET", f"{PORTS}/{uuid.uuid4()}")
        self.assertEqual(unknown.status_int, 404)
        self.assertIn("portNotFound", unknown.json)

    def test_filters_as_find_port_sends_them(self):
        def ids(query: str) -> list[str]:
            response = self.request("GET", f"{PORTS}?{query}")
            self.assertEqual(response.status_int, 200, response.text)
            return [port["id"] for port in response.json["ports"]]

        # openstacksdk's find_port after a 404 by id: the name (ports have none).
        self.assertEqual(ids(f"name={self.port_a}"), [])
        self.assertEqual(ids("name="), [self.port_a, self.port_b])
        self.assertEqual(ids(f"id={self.port_a}"), [self.port_a])
        self.assertEqual(ids(f"id={self.port_a}&id={self.port_b}"), [self.port_a, self.port_b])
        self.assertEqual(ids(f"network_id={self.net_b}"), [self.port_b])
        self.assertEqual(ids(f"network_id={self.net_b}&status=DOWN"), [])
        self.assertEqual(ids("status=ACTIVE"), [self.port_b])
        self.assertEqual(ids("admin_state_up=false"), [self.port_a])
        self.assertEqual(ids("admin_state_up=True"), [self.port_b])
        self.assertEqual(ids("device_id="), [self.port_a, self.port_b])
        self.assertEqual(ids("project_id=t2"), [])
        self.assertEqual(ids("mac_address=fa:16:3e:00:00:01"), [])

    def test_fields_limit_the_keys(self):
        listed = self.request("GET", f"{PORTS}?fields=status&fields=network_id&id={self.port_a}")
        self.assertEqual(
            listed.json["ports"], [{"id": self.port_a, "network_id": self.net_a, "status": "DOWN"}]
        )
        shown = self.request("GET", f"{PORTS}/{self.port_b}?fields=admin_state_up").json
        self.assertEqual(shown, {"port": {"id": self.port_b, "admin_state_up": True}})

    def test_unknown_filters_and_bad_values_are_400(self):
        for query, name in [
            ("color=red", "color"),
            ("limit=1", "limit"),
            ("admin_state_up=maybe", "admin_state_up"),
        ]:
            with self.subTest(query=query):
                response = self.request("GET", f"{PORTS}?{query}")
                self.assertEqual(response.status_int, 400, response.text)
                self.assertIn(name, response.json["malformedRequestBody"]["message"])

    def test_read_only_and_nothing_else(self):
        before = self.count_rows("ports")
        for method, path in [
            ("POST", PORTS),
            ("PUT", f"{PORTS}/{self.port_a}"),
            ("DELETE", f"{PORTS}/{self.port_a}"),
            ("PATCH", f"{PORTS}/{self.port_a}"),
        ]:
            with self.subTest(method=method):
                body = {"port": {"network_id": self.net_a}} if method in ("POST", "PUT") else None
                response = self.request(method, path, body)
                self.assertEqual(response.status_int, 405, response.text)
                self.assertIn("badMethod", response.json)
        for path in ("/v2.0/networks", "/v2.0/subnets", f"{PORTS}/{self.port_a}/extra"):
            with self.subTest(path=path):
                response = self.request("GET", path)
                self.assertEqual(response.status_int, 404)
                self.assertIn("itemNotFound", response.json)
        self.assertEqual(self.count_rows("ports"), before)

    def test_authentication_as_v1_1(self):
        for path in (PORTS, f"{PORTS}/{self.port_a}"):
            with self.subTest(path=path):
                response = self.request("GET", path, token=None)
                self.assertEqual(response.status_int, 401)
                self.assertIn("unauthorized", response.json)
        self.conf.set_override("auth_strategy", "keystone")
        # keystonemiddleware let the request through: its headers are trusted.
        self.app.token_check = mock.Mock(**{"check.return_value": None})
        # Keystone's token lists the implied roles too (member implies reader).
        unscoped = {
            "X-Identity-Status": "Confirmed",
            "X-User-Id": "u1",
            "X-Roles": "member,reader",
        }
        response = self.request("GET", PORTS, token=None, headers=unscoped)
        self.assertEqual(response.status_int, 400, response.text)
        scoped = {**unscoped, "X-Project-Id": "t1"}
        response = self.request("GET", PORTS, token=None, headers=scoped)
        self.assertEqual(len(response.json["ports"]), 2)

    def test_xml(self):
        response = self.request("GET", f"{PORTS}/{self.port_b}.xml")
        self.assertEqual(response.status_int, 200, response.text)
        port = etree.fromstring(response.body)
        self.assertEqual(
            (port.get("id"), port.get("status"), port.get("admin_state_up")),
            (self.port_b, "ACTIVE", "True"),
        )


class DiscoveryTestCase(quantum_fixtures.QuantumTestCase):
    def test_versions_lead_clients_to_v2_0(self):
        versions = self.request("GET", "/", token=None).json["versions"]
        self.assertEqual(
            [(v["id"], v["status"]) for v in versions], [("v1.1", "CURRENT"), ("v2.0", "SUPPORTED")]
        )
        href = versions[1]["links"][0]["href"]
        self.assertEqual(href, "http://localhost/v2.0")
        resources = webob.Request.blank(href).get_response(self.app)
        self.assertEqual(resources.status_int, 200)
        (ports,) = resources.json["resources"]
        self.assertEqual(
            (ports["collection"], ports["links"][0]["href"]),
            ("ports", "http://localhost/v2.0/ports"),
        )
