"""The Quantum v1.1 API: every call, status code, fault, the XML form and isolation."""

from __future__ import annotations

import threading
import uuid
from unittest import mock

import webob
from lxml import etree

from quantum import exceptions
from quantum.api import router
from quantum.db import api as db_api
from servicekit import db as servicekit_db
from tests.fixtures import quantum as quantum_fixtures

T1 = "/v1.1/tenants/t1"
XMLNS = "{http://openstack.org/quantum/api/v1.1}"


class VersionsTestCase(quantum_fixtures.QuantumTestCase):
    def test_versions_need_no_token(self):
        for path in ("/", "/v1.1"):
            response = self.request("GET", path, token=None)
            self.assertEqual(response.status_int, 200)
            self.assertEqual(response.json["versions"][0]["id"], "v1.1")

    def test_access_log_is_info_over_http_and_debug_in_process(self):
        with self.assertLogs("quantum.access", "DEBUG") as logged:
            self.request("GET", "/v1.1")
            in_process = webob.Request.blank("/v1.1", remote_addr="in-process")
            self.assertEqual(in_process.get_response(self.app).status_int, 200)
        self.assertEqual(
            [(record.levelname, record.args[0]) for record in logged.records],
            [("INFO", None), ("DEBUG", "in-process")],  # Request.blank sets no address
        )

    def test_unknown_path_and_method(self):
        self.assertEqual(self.request("GET", "/v2.0/networks").status_int, 404)
        response = self.request("PATCH", f"{T1}/networks")
        self.assertEqual(response.status_int, 405)
        self.assertIn("badMethod", response.json)


class NetworkTestCase(quantum_fixtures.QuantumTestCase):
    def test_create_list_show_update_delete(self):
        net_id = self.create_network(name="net1")
        self.assertEqual(str(uuid.UUID(net_id)), net_id)

        index = self.request("GET", f"{T1}/networks")
        self.assertEqual((index.status_int, index.json), (200, {"networks": [{"id": net_id}]}))
        detail = self.request("GET", f"{T1}/networks/detail").json["networks"][0]
        self.assertEqual(
            (detail["name"], detail["op-status"], detail["plugin"]), ("net1", "UP", "linuxbridge")
        )
        self.assertEqual(self.request("GET", f"{T1}/networks/{net_id}").json["network"], detail)

        renamed = self.request("PUT", f"{T1}/networks/{net_id}", {"network": {"name": "n2"}})
        self.assertEqual((renamed.status_int, renamed.body), (204, b""))
        self.assertEqual(
            self.request("GET", f"{T1}/networks/{net_id}").json["network"]["name"], "n2"
        )

        self.assertEqual(self.request("DELETE", f"{T1}/networks/{net_id}").status_int, 204)
        gone = self.request("GET", f"{T1}/networks/{net_id}")
        self.assertEqual(gone.status_int, 404)
        self.assertEqual(gone.json["networkNotFound"]["code"], 404)

    def test_show_detail_lists_ports(self):
        net_id = self.create_network()
        port_id = self.create_port(net_id)
        network = self.request("GET", f"{T1}/networks/{net_id}/detail").json["network"]
        self.assertEqual([port["id"] for port in network["ports"]], [port_id])
        self.assertEqual(network["ports"][0]["state"], "DOWN")

    def test_delete_network_with_ports_is_refused(self):
        net_id = self.create_network()
        self.create_port(net_id)
        response = self.request("DELETE", f"{T1}/networks/{net_id}")
        self.assertEqual(response.status_int, 409)
        self.assertIn("networkInUse", response.json)
        self.assertEqual(self.count_rows("networks"), 1)

    def test_bad_bodies_write_nothing(self):
        cases = [
            b"{not json",
            b"[]",
            {"net": {"name": "x"}},
            {"network": {}},
            {"network": {"name": ""}},
            {"network": {"name": "x", "color": "red"}},
            {"network": {"name": "x" * 256}},
        ]
        for body in cases:
            with self.subTest(body=body):
                response = self.request("POST", f"{T1}/networks", body)
                self.assertEqual(response.status_int, 400, response.text)
                self.assertIn("malformedRequestBody", response.json)
        self.assertEqual(self.count_rows("networks"), 0)

    def test_update_needs_something_to_change(self):
        net_id = self.create_network()
        response = self.request("PUT", f"{T1}/networks/{net_id}", {"network": {}})
        self.assertEqual(response.status_int, 400)

    def test_unsupported_media_type_and_oversized_body(self):
        response = self.request(
            "POST", f"{T1}/networks", b"name=x", content_type="application/x-www-form-urlencoded"
        )
        self.assertEqual(response.status_int, 415)
        big = {"network": {"name": "x", "padding": "y" * (2 * 1024 * 1024)}}
        response = self.request("POST", f"{T1}/networks", big)
        self.assertEqual(response.status_int, 413)
        self.assertEqual(self.count_rows("networks"), 0)


class AuthTestCase(quantum_fixtures.QuantumTestCase):
    def test_no_token_is_401(self):
        response = self.request("GET", f"{T1}/networks", token=None)
        self.assertEqual(response.status_int, 401)
        self.assertIn("unauthorized", response.json)

    def test_another_tenants_url_is_403(self):
        response = self.request("GET", f"{T1}/networks", token="bob:t2")
        self.assertEqual(response.status_int, 403)

    def test_another_tenants_network_and_port_are_404(self):
        net_id = self.create_network()
        port_id = self.create_port(net_id)
        t2 = "/v1.1/tenants/t2"
        for method, path in [
            ("GET", f"{t2}/networks/{net_id}"),
            ("GET", f"{t2}/networks/{net_id}/detail"),
            ("PUT", f"{t2}/networks/{net_id}"),
            ("DELETE", f"{t2}/networks/{net_id}"),
            ("GET", f"{t2}/networks/{net_id}/ports"),
            ("POST", f"{t2}/networks/{net_id}/ports"),
            ("GET", f"{t2}/networks/{net_id}/ports/{port_id}/detail"),
            ("DELETE", f"{t2}/networks/{net_id}/ports/{port_id}"),
            ("PUT", f"{t2}/networks/{net_id}/ports/{port_id}/attachment"),
        ]:
            with self.subTest(method=method, path=path):
                body = None
                if method == "PUT":
                    body = (
                        {"attachment": {"id": "vif"}}
                        if path.endswith("attachment")
                        else {"network": {"name": "stolen"}}
                    )
                response = self.request(method, path, body, token="bob:t2")
                self.assertEqual(response.status_int, 404, response.text)
                self.assertIn("networkNotFound", response.json)
        self.assertEqual(self.request("GET", f"{T1}/networks/{net_id}").status_int, 200)
        self.assertEqual(self.count_rows("ports"), 1)
        self.assertEqual(
            self.request("GET", f"{T1}/networks/{net_id}/ports/{port_id}/attachment").json,
            {"attachment": {}},
        )

    def test_admin_acts_in_any_tenant(self):
        net_id = self.create_network()
        response = self.request("GET", f"{T1}/networks/{net_id}", token="admin:admin")
        self.assertEqual(response.status_int, 200)

    def test_keystone_identity_headers(self):
        self.conf.set_override("auth_strategy", "keystone")
        # keystonemiddleware let the request through: its headers are trusted.
        self.app.token_check = mock.Mock(**{"check.return_value": None})
        confirmed = {
            "X-Identity-Status": "Confirmed",
            "X-User-Id": "u1",
            "X-Project-Id": "t1",
            "X-Roles": "member, admin",
        }
        request = webob.Request.blank("/", headers=confirmed)
        self.assertEqual(
            self.app.authenticate(request, "t2"),
            router.Context("u1", "t1", True, ("admin", "member")),
        )
        legacy = {**confirmed, "X-Roles": "member", "X-Tenant-Id": "t3"}
        del legacy["X-Project-Id"]
        request = webob.Request.blank("/", headers=legacy)
        self.assertEqual(
            self.app.authenticate(request, "t3"), router.Context("u1", "t3", False, ("member",))
        )
        with self.assertRaises(exceptions.Forbidden):
            self.app.authenticate(request, "t1")
        request = webob.Request.blank("/", headers={**confirmed, "X-Identity-Status": "Invalid"})
        with self.assertRaises(exceptions.NotAuthenticated):
            self.app.authenticate(request, "t1")

    def test_token_without_colon_is_user_and_tenant(self):
        self.assertEqual(
            self.request("GET", "/v1.1/tenants/solo/networks", token="solo").status_int, 200
        )


class PortTestCase(quantum_fixtures.QuantumTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.net_id = self.create_network()
        self.ports = f"{T1}/networks/{self.net_id}/ports"

    def test_create_show_update_delete(self):
        port_id = self.create_port(self.net_id)
        self.assertEqual(self.request("GET", self.ports).json, {"ports": [{"id": port_id}]})
        shown = self.request("GET", f"{self.ports}/{port_id}").json["port"]
        self.assertEqual(shown, {"id": port_id, "state": "DOWN", "op-status": "DOWN"})

        updated = self.request("PUT", f"{self.ports}/{port_id}", {"port": {"state": "ACTIVE"}})
        self.assertEqual(updated.status_int, 204)
        self.assertEqual(
            self.request("GET", f"{self.ports}/{port_id}").json["port"]["state"], "ACTIVE"
        )

        self.assertEqual(self.request("DELETE", f"{self.ports}/{port_id}").status_int, 204)
        gone = self.request("GET", f"{self.ports}/{port_id}")
        self.assertEqual(gone.status_int, 404)
        self.assertIn("portNotFound", gone.json)

    def test_create_with_state(self):
        port_id = self.create_port(self.net_id, body={"port": {"state": "ACTIVE"}})
        self.assertEqual(
            self.request("GET", f"{self.ports}/{port_id}").json["port"]["state"], "ACTIVE"
        )

    def test_bad_state_is_requested_state_invalid(self):
        response = self.request("POST", self.ports, {"port": {"state": "UP"}})
        self.assertEqual(response.status_int, 400)
        self.assertIn("requestedStateInvalid", response.json)
        self.assertEqual(self.count_rows("ports"), 0)

    def test_write_transaction_is_held_only_around_the_database_calls(self):
        port_id = self.create_port(self.net_id)
        attachment = f"{self.ports}/{port_id}/attachment"
        with mock.patch.object(servicekit_db, "writing", wraps=servicekit_db.writing) as writing:
            # Refused while the body is checked: no transaction, no write lock.
            for body in ({"attachment": {}}, b"{not json"):
                self.assertEqual(self.request("PUT", attachment, body).status_int, 400)
            self.assertEqual(writing.call_count, 0)
            self.assertEqual(
                self.request("PUT", attachment, {"attachment": {"id": "v"}}).status_int, 204
            )
            self.assertEqual(writing.call_count, 1)
        # The transaction ends with the request: one failing after its
        # database call has returned still writes nothing.
        create = db_api.QuantumDatabase.port_create

        def create_then_fail(db, *args):
            create(db, *args)
            raise RuntimeError("after the write")

        with mock.patch.object(
            db_api.QuantumDatabase, "port_create", autospec=True, side_effect=create_then_fail
        ):
            self.assertEqual(self.request("POST", self.ports).status_int, 500)
        self.assertEqual(self.count_rows("ports"), 1)

    def test_port_of_unknown_network(self):
        response = self.request("POST", f"{T1}/networks/{uuid.uuid4()}/ports")
        self.assertEqual(response.status_int, 404)
        self.assertIn("networkNotFound", response.json)

    def test_attachment_lifecycle(self):
        port_id = self.create_port(self.net_id)
        attachment = f"{self.ports}/{port_id}/attachment"
        self.assertEqual(self.request("GET", attachment).json, {"attachment": {}})

        plugged = self.request("PUT", attachment, {"attachment": {"id": "vif-1"}})
        self.assertEqual(plugged.status_int, 204)
        self.assertEqual(self.request("GET", attachment).json, {"attachment": {"id": "vif-1"}})

        again = self.request("PUT", attachment, {"attachment": {"id": "vif-2"}})
        self.assertEqual(again.status_int, 409)
        self.assertIn("alreadyAttached", again.json)
        self.assertEqual(self.request("GET", attachment).json, {"attachment": {"id": "vif-1"}})

        in_use = self.request("DELETE", f"{self.ports}/{port_id}")
        self.assertEqual(in_use.status_int, 409)
        self.assertIn("portInUse", in_use.json)

        self.assertEqual(self.request("DELETE", attachment).status_int, 204)
        self.assertEqual(self.request("GET", attachment).json, {"attachment": {}})
        self.assertEqual(self.request("DELETE", f"{self.ports}/{port_id}").status_int, 204)

    def test_interface_attached_elsewhere_is_refused(self):
        first, second = self.create_port(self.net_id), self.create_port(self.net_id)
        body = {"attachment": {"id": "vif-1"}}
        self.assertEqual(
            self.request("PUT", f"{self.ports}/{first}/attachment", body).status_int, 204
        )
        response = self.request("PUT", f"{self.ports}/{second}/attachment", body)
        self.assertEqual(response.status_int, 409)
        self.assertIn("alreadyAttached", response.json)

    def test_bad_attachment_bodies(self):
        port_id = self.create_port(self.net_id)
        for body in ({}, {"attachment": {}}, {"attachment": {"id": ""}}, {"attachment": "x"}):
            with self.subTest(body=body):
                response = self.request("PUT", f"{self.ports}/{port_id}/attachment", body)
                self.assertEqual(response.status_int, 400)

    def test_filter_by_attachment(self):
        first, second = self.create_port(self.net_id), self.create_port(self.net_id)
        self.request("PUT", f"{self.ports}/{second}/attachment", {"attachment": {"id": "vif-9"}})
        found = self.request("GET", f"{self.ports}?attachment=vif-9").json["ports"]
        self.assertEqual(found, [{"id": second}])
        detail = self.request("GET", f"{self.ports}/detail?attachment=vif-9").json["ports"]
        self.assertEqual([(p["id"], p["attachment"]) for p in detail], [(second, {"id": "vif-9"})])
        self.assertEqual(self.request("GET", f"{self.ports}?attachment=none").json["ports"], [])
        self.assertEqual(len(self.request("GET", self.ports).json["ports"]), 2)
        self.assertNotEqual(first, second)

    def test_concurrent_attaches_one_wins(self):
        port_id = self.create_port(self.net_id)
        results = []

        def attach(vif: str) -> None:
            body = {"attachment": {"id": vif}}
            results.append(
                self.request("PUT", f"{self.ports}/{port_id}/attachment", body).status_int
            )

        threads = [threading.Thread(target=attach, args=(f"vif-{i}",)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(sorted(results), [204] + [409] * 7)


class ConfigurationTestCase(quantum_fixtures.QuantumTestCase):
    def port_configuration(self, net_id: str, port_id: str, tenant: str = "t1") -> dict:
        path = f"/v1.1/tenants/{tenant}/networks/{net_id}/ports/{port_id}/detail"
        response = self.request("GET", path, token="admin:admin")
        self.assertEqual(response.status_int, 200, response.text)
        return response.json["port"]["configuration"]

    def test_plugins(self):
        expected = {
            "linuxbridge": lambda net, port: {"vif_type": "bridge", "bridge": ("brq" + net)[:15]},
            "openvswitch": lambda net, port: {
                "vif_type": "ovs",
                "bridge": "br-int",
                "ovs_hybrid_plug": "false",
            },
            "8021qbh": lambda net, port: {"vif_type": "802.1qbh", "source_dev": "eth0"},
            "8021qbg": lambda net, port: {
                "vif_type": "802.1qbg",
                "source_dev": "eth0",
                "managerid": "11",
                "typeid": "1193047",
                "typeidversion": "2",
                "instanceid": port,
            },
            "tap": lambda net, port: {"vif_type": "ethernet"},
        }
        for plugin, configuration in expected.items():
            with self.subTest(plugin=plugin):
                net_id = self.create_network(token="admin:admin", plugin=plugin)
                port_id = self.create_port(net_id)
                self.assertEqual(
                    self.port_configuration(net_id, port_id), configuration(net_id, port_id)
                )

    def test_network_then_port_values_override_the_plugin(self):
        net_id = self.create_network(
            token="admin:admin",
            plugin="8021qbh",
            configuration={"source_dev": "eth4", "profile_id": "net-profile"},
        )
        plain = self.create_port(net_id)
        special = self.create_port(
            net_id, token="admin:admin", body={"port": {"configuration": {"profile_id": "mine"}}}
        )
        self.assertEqual(
            self.port_configuration(net_id, plain),
            {"vif_type": "802.1qbh", "source_dev": "eth4", "profile_id": "net-profile"},
        )
        self.assertEqual(self.port_configuration(net_id, special)["profile_id"], "mine")

        # A null value removes a key on update; other keys stay.
        path = f"{T1}/networks/{net_id}/ports/{special}"
        response = self.request(
            "PUT",
            path,
            {"port": {"configuration": {"profile_id": None, "x": "1"}}},
            token="admin:x",
        )
        self.assertEqual(response.status_int, 204, response.text)
        self.assertEqual(
            self.port_configuration(net_id, special),
            {"vif_type": "802.1qbh", "source_dev": "eth4", "profile_id": "net-profile", "x": "1"},
        )

    def test_network_detail_list_carries_each_networks_configuration(self):
        with_keys = self.create_network(
            token="admin:admin", configuration={"a": "1", "b": "2"}, name="k"
        )
        without = self.create_network(name="plain")
        other_tenant = self.create_network(
            token="admin:admin", tenant="t2", configuration={"c": "3"}, name="o"
        )
        # A changed value and a dropped key show in the list at once.
        path = f"{T1}/networks/{with_keys}"
        body = {"network": {"configuration": {"a": "9", "b": None}}}
        self.assertEqual(self.request("PUT", path, body, token="admin:x").status_int, 204)
        listed = self.request("GET", f"{T1}/networks/detail").json["networks"]
        self.assertEqual(
            [(n["id"], n["name"], n["configuration"]) for n in listed],
            [(with_keys, "k", {"a": "9"}), (without, "plain", {})],
        )
        self.assertNotIn(other_tenant, [n["id"] for n in listed])
        for network in listed:
            shown = self.request("GET", f"{T1}/networks/{network['id']}").json["network"]
            self.assertEqual(shown, network)

    def test_tenant_reads_its_port_configuration(self):
        net_id = self.create_network()
        port_id = self.create_port(net_id)
        detail = self.request("GET", f"{T1}/networks/{net_id}/ports/{port_id}/detail")
        self.assertEqual(detail.json["port"]["configuration"]["vif_type"], "bridge")

    def test_only_admins_set_plugin_or_configuration(self):
        forbidden = [
            ("POST", f"{T1}/networks", {"network": {"name": "n", "plugin": "tap"}}),
            ("POST", f"{T1}/networks", {"network": {"name": "n", "configuration": {"a": "b"}}}),
        ]
        for method, path, body in forbidden:
            with self.subTest(body=body):
                response = self.request(method, path, body)
                self.assertEqual(response.status_int, 403)
        self.assertEqual(self.count_rows("networks"), 0)

        net_id = self.create_network()
        port_body = {"port": {"configuration": {"bridge": "evil"}}}
        ports = f"{T1}/networks/{net_id}/ports"
        self.assertEqual(self.request("POST", ports, port_body).status_int, 403)
        self.assertEqual(self.count_rows("ports"), 0)
        port_id = self.create_port(net_id)
        self.assertEqual(self.request("PUT", f"{ports}/{port_id}", port_body).status_int, 403)
        self.assertEqual(
            self.request(
                "PUT", f"{T1}/networks/{net_id}", {"network": {"plugin": "tap"}}
            ).status_int,
            403,
        )
        self.assertEqual(self.count_rows("port_configurations"), 0)

    def test_unknown_plugin_is_400_and_writes_nothing(self):
        response = self.request(
            "POST", f"{T1}/networks", {"network": {"name": "n", "plugin": "nope"}}, token="admin:t1"
        )
        self.assertEqual(response.status_int, 400)
        self.assertIn("nope", response.json["malformedRequestBody"]["message"])
        self.assertEqual(self.count_rows("networks"), 0)

    def test_bad_configuration_keys(self):
        for configuration in ({"": "x"}, {"a b": "x"}, {"k": 1}, {"k": "v" * 1025}):
            with self.subTest(configuration=configuration):
                response = self.request(
                    "POST",
                    f"{T1}/networks",
                    {"network": {"name": "n", "configuration": configuration}},
                    token="admin:t1",
                )
                self.assertEqual(response.status_int, 400)
        self.assertEqual(self.count_rows("networks"), 0)


class XmlTestCase(quantum_fixtures.QuantumTestCase):
    def test_create_and_read_in_xml(self):
        body = (
            b'<network name="xml-net" plugin="8021qbh">'
            b'<configuration><conf key="profile_id">a&lt;b&amp;"c"</conf></configuration>'
            b"</network>"
        )
        created = self.request(
            "POST", f"{T1}/networks.xml", body, token="admin:t1", content_type="application/xml"
        )
        self.assertEqual(created.status_int, 202, created.text)
        self.assertEqual(created.content_type, "application/xml")
        net_id = etree.fromstring(created.body).get("id")

        port = self.request(
            "POST",
            f"{T1}/networks/{net_id}/ports.xml",
            b'<port state="ACTIVE"/>',
            content_type="application/xml",
        )
        port_id = etree.fromstring(port.body).get("id")
        self.request(
            "PUT",
            f"{T1}/networks/{net_id}/ports/{port_id}/attachment.xml",
            b'<attachment id="vif-x"/>',
            content_type="application/xml",
        )

        detail = self.request("GET", f"{T1}/networks/{net_id}/ports/{port_id}/detail.xml")
        root = etree.fromstring(detail.body)
        self.assertEqual(root.tag, f"{XMLNS}port")
        self.assertEqual(root.get("state"), "ACTIVE")
        self.assertEqual(root.find(f"{XMLNS}attachment").get("id"), "vif-x")
        conf = {c.get("key"): c.text for c in root.find(f"{XMLNS}configuration")}
        self.assertEqual(
            conf, {"vif_type": "802.1qbh", "source_dev": "eth0", "profile_id": 'a<b&"c"'}
        )

    def test_accept_header_picks_xml(self):
        self.create_network(name="n1")
        response = self.request("GET", f"{T1}/networks", headers={"Accept": "application/xml"})
        root = etree.fromstring(response.body)
        self.assertEqual(root.tag, f"{XMLNS}networks")
        self.assertEqual(len(root), 1)

    def test_faults_in_xml(self):
        response = self.request("GET", f"{T1}/networks/{uuid.uuid4()}.xml")
        self.assertEqual(response.status_int, 404)
        root = etree.fromstring(response.body)
        self.assertEqual(root.tag, f"{XMLNS}networkNotFound")
        self.assertEqual(root.get("code"), "404")

    def test_entities_and_dtds_are_refused(self):
        body = (
            b'<?xml version="1.0"?><!DOCTYPE n [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
            b'<network name="&e;"/>'
        )
        response = self.request("POST", f"{T1}/networks.xml", body, content_type="application/xml")
        self.assertEqual(response.status_int, 400)
        self.assertEqual(self.count_rows("networks"), 0)

    def test_malformed_xml(self):
        response = self.request(
            "POST", f"{T1}/networks.xml", b"<network", content_type="application/xml"
        )
        self.assertEqual(response.status_int, 400)


class AttachmentLookupTestCase(quantum_fixtures.QuantumTestCase):
    """``/v1.1/attachments``: the agents' admin-only lookup, and op-status they set."""

    def setUp(self) -> None:
        super().setUp()
        self.conf.set_override("op_status_from_agents", True)
        self.net_id = self.create_network()
        self.port_id = self.create_port(self.net_id)
        self.port = f"{T1}/networks/{self.net_id}/ports/{self.port_id}"
        self.request("PUT", f"{self.port}/attachment", {"attachment": {"id": "vif-1"}})
        # Another tenant's attachment, and a free port: the list spans tenants, skips free ports.
        other_net = self.create_network(tenant="t2", token="bob:t2")
        other_port = self.create_port(other_net, tenant="t2", token="bob:t2")
        self.create_port(self.net_id)
        self.request(
            "PUT",
            f"/v1.1/tenants/t2/networks/{other_net}/ports/{other_port}/attachment",
            {"attachment": {"id": "vif-2"}},
            token="bob:t2",
        )
        self.other = (other_net, other_port)

    def test_admin_lists_every_tenants_attachments(self):
        response = self.request("GET", "/v1.1/attachments", token="admin:admin")
        self.assertEqual(response.status_int, 200)
        self.assertEqual(
            response.json["attachments"],
            [
                {
                    "id": "vif-1",
                    "port_id": self.port_id,
                    "network_id": self.net_id,
                    "tenant_id": "t1",
                    "state": "DOWN",
                    "op-status": "DOWN",
                },
                {
                    "id": "vif-2",
                    "port_id": self.other[1],
                    "network_id": self.other[0],
                    "tenant_id": "t2",
                    "state": "DOWN",
                    "op-status": "DOWN",
                },
            ],
        )
        found = self.request("GET", "/v1.1/attachments?id=vif-2", token="admin:admin").json
        self.assertEqual([a["port_id"] for a in found["attachments"]], [self.other[1]])
        shown = self.request("GET", "/v1.1/attachments/vif-1", token="admin:admin")
        self.assertEqual(shown.json["attachment"]["port_id"], self.port_id)
        xml = self.request("GET", "/v1.1/attachments/vif-1.xml", token="admin:admin")
        self.assertEqual(etree.fromstring(xml.body).get("port_id"), self.port_id)

    def test_unknown_attachment_is_404(self):
        response = self.request("GET", "/v1.1/attachments/vif-9", token="admin:admin")
        self.assertEqual(response.status_int, 404)
        self.assertEqual(response.json["itemNotFound"]["code"], 404)

    def test_lookup_is_admin_only(self):
        for path in ("/v1.1/attachments", "/v1.1/attachments/vif-1"):
            with self.subTest(path=path):
                response = self.request("GET", path)
                self.assertEqual(response.status_int, 403)
                self.assertIn("forbidden", response.json)
                self.assertEqual(self.request("GET", path, token=None).status_int, 401)

    def test_op_status_is_set_by_an_admin_and_reset_by_detach(self):
        refused = self.request("PUT", self.port, {"port": {"op-status": "UP"}})
        self.assertEqual(refused.status_int, 403)
        bad = self.request("PUT", self.port, {"port": {"op-status": "up"}}, token="admin:admin")
        self.assertEqual(bad.status_int, 400)
        self.assertEqual(self.request("GET", self.port).json["port"]["op-status"], "DOWN")
        done = self.request("PUT", self.port, {"port": {"op-status": "UP"}}, token="admin:admin")
        self.assertEqual(done.status_int, 204)
        self.assertEqual(self.request("GET", self.port).json["port"]["op-status"], "UP")
        self.request("DELETE", f"{self.port}/attachment")
        self.assertEqual(self.request("GET", self.port).json["port"]["op-status"], "DOWN")

    def test_without_agents_attaching_makes_a_port_up(self):
        self.conf.set_override("op_status_from_agents", False)
        port_id = self.create_port(self.net_id)
        port = f"{T1}/networks/{self.net_id}/ports/{port_id}"
        self.request("PUT", f"{port}/attachment", {"attachment": {"id": "vif-3"}})
        self.assertEqual(self.request("GET", port).json["port"]["op-status"], "UP")
