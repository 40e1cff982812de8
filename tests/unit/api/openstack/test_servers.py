"""Servers, flavors, versions, auth and faults of the compute API."""

from __future__ import annotations

import threading
import uuid
from unittest import mock

from nova import context as nova_context
from nova.db import api as db_api
from tests import api_fixtures

SERVER_KEYS = {
    "id", "name", "status", "image", "flavor", "user_id", "tenant_id",
    "created", "updated", "metadata", "links", "addresses", "hostId",
}  # fmt: skip


class VersionsTestCase(api_fixtures.APITestCase):
    def test_version_documents(self):
        root = self.request("GET", "/", token=None)
        self.assertEqual(root.status_int, 200)
        self.assertEqual(root.json["versions"][0]["id"], "v2.1")
        for path in ("/v2.1", "/v2.1/"):
            version = self.request("GET", path, token="notused")
            self.assertEqual(version.status_int, 200)
            self.assertEqual(version.json["version"]["status"], "CURRENT")
            self.assertEqual(version.headers["OpenStack-API-Version"], "compute 2.1")
            self.assertTrue(version.headers["x-openstack-request-id"].startswith("req-"))


class AuthTestCase(api_fixtures.APITestCase):
    def test_no_token_is_401(self):
        response = self.request("GET", "/v2.1/servers", token=None)
        self.assertEqual(response.status_int, 401)
        self.assertEqual(response.json["unauthorized"]["code"], 401)

    def test_token_without_colon_is_user_and_project(self):
        server_id = self.create_server(token="notused")
        shown = self.request("GET", f"/v2.1/servers/{server_id}", token="notused").json
        self.assertEqual(shown["server"]["tenant_id"], "notused")

    def test_project_segment_must_be_the_callers(self):
        self.assertEqual(self.request("GET", "/v2.1/demo/servers").status_int, 200)
        response = self.request("GET", "/v2.1/other/servers")
        self.assertEqual(response.status_int, 400)
        self.assertIn("project_id", response.json["badRequest"]["message"])

    def test_all_tenants_is_admin_only(self):
        self.create_server()
        self.create_server(token="bob:other")
        response = self.request("GET", "/v2.1/servers?all_tenants=1")
        self.assertEqual(response.status_int, 403)
        self.assertIn("forbidden", response.json)
        admin = self.request("GET", "/v2.1/servers?all_tenants=1", token="admin:admin")
        self.assertEqual(len(admin.json["servers"]), 2)


class FaultsTestCase(api_fixtures.APITestCase):
    def test_unknown_path_method_media_type_and_size(self):
        self.assertEqual(self.request("GET", "/v2.1/nothing").status_int, 404)
        self.assertEqual(self.request("PATCH", "/v2.1/servers").json["badMethod"]["code"], 405)
        response = self.request("POST", "/v2.1/servers", b"x=1", content_type="text/plain")
        self.assertEqual(response.status_int, 415)
        self.assertIn("badMediaType", response.json)
        big = {"server": {"name": "x" * (2 * 1024 * 1024)}}
        self.assertEqual(self.request("POST", "/v2.1/servers", big).status_int, 413)
        malformed = self.request("POST", "/v2.1/servers", b"{nope")
        self.assertEqual(malformed.status_int, 400)
        self.assertEqual(self.count("instances"), 0)

    def test_unexpected_error_is_a_500_without_traceback(self):
        with mock.patch(
            "nova.db.views_api.instance_get_all_for_view", side_effect=RuntimeError("secret")
        ):
            response = self.request("GET", "/v2.1/servers")
        self.assertEqual(response.status_int, 500)
        self.assertNotIn("secret", response.text)
        self.assertNotIn("Traceback", response.text)
        self.assertIn("computeFault", response.json)


class FlavorsTestCase(api_fixtures.APITestCase):
    def test_list_detail_show(self):
        listed = self.request("GET", "/v2.1/flavors").json["flavors"]
        self.assertEqual([f["name"] for f in listed][:2], ["m1.tiny", "m1.small"])
        self.assertEqual(set(listed[0]), {"id", "name", "links"})
        detail = self.request("GET", "/v2.1/flavors/detail").json["flavors"][0]
        self.assertEqual((detail["ram"], detail["vcpus"], detail["disk"]), (512, 1, 1))
        self.assertEqual(self.request("GET", "/v2.1/flavors/2").json["flavor"]["name"], "m1.small")
        self.assertEqual(self.request("GET", "/v2.1/flavors/99").status_int, 404)


class ServersTestCase(api_fixtures.APITestCase):
    def test_create_show_list_rename_delete(self):
        server_id = self.create_server(name="web", metadata={"role": "db"})
        shown = self.request("GET", f"/v2.1/servers/{server_id}")
        self.assertEqual(shown.status_int, 200)
        server = shown.json["server"]
        self.assertLessEqual(SERVER_KEYS, set(server))
        self.assertEqual(
            (server["name"], server["status"], server["metadata"], server["flavor"]["id"]),
            ("web", "BUILD", {"role": "db"}, "1"),
        )
        self.assertEqual(server["tenant_id"], "demo")
        self.scheduled.assert_called_once()

        listed = self.request("GET", "/v2.1/servers").json["servers"]
        self.assertEqual(listed, [{"id": server_id, "name": "web", "links": server["links"]}])
        detail = self.request("GET", "/v2.1/servers/detail").json["servers"]
        self.assertEqual(detail[0]["id"], server_id)

        renamed = self.request("PUT", f"/v2.1/servers/{server_id}", {"server": {"name": "db"}})
        self.assertEqual((renamed.status_int, renamed.json["server"]["name"]), (200, "db"))

        self.assertEqual(self.request("DELETE", f"/v2.1/servers/{server_id}").status_int, 204)
        self.assertEqual(self.request("GET", f"/v2.1/servers/{server_id}").status_int, 404)
        self.assertEqual(self.count("instances"), 0)

    def test_create_response_shape(self):
        response = self.request(
            "POST",
            "/v2.1/servers",
            {"server": {"name": "vm", "imageRef": "cirros", "flavorRef": 1}},
        )
        self.assertEqual(response.status_int, 202)
        body = response.json["server"]
        self.assertEqual([link["rel"] for link in body["links"]], ["self", "bookmark"])
        self.assertEqual(str(uuid.UUID(body["id"])), body["id"])

    def test_min_and_max_count(self):
        self.create_server(name="batch", min_count=2, max_count=3)
        names = sorted(s["name"] for s in self.request("GET", "/v2.1/servers").json["servers"])
        self.assertEqual(names, ["batch-1", "batch-2", "batch-3"])
        self.create_server(min_count=3, max_count=2, expect=400)

    def test_paging_and_filters(self):
        ids = [self.create_server(name=f"vm{i}") for i in range(5)]
        first = self.request("GET", "/v2.1/servers?limit=2").json
        self.assertEqual(len(first["servers"]), 2)
        next_href = first["servers_links"][0]["href"]
        marker = next_href.split("marker=")[1]
        second = self.request("GET", f"/v2.1/servers?limit=2&marker={marker}").json
        third = self.request(
            "GET", f"/v2.1/servers?limit=2&marker={second['servers'][-1]['id']}"
        ).json
        seen = [s["id"] for page in (first, second, third) for s in page["servers"]]
        self.assertEqual(sorted(seen), sorted(ids))
        self.assertNotIn("servers_links", third)
        self.assertEqual(self.request("GET", "/v2.1/servers?marker=nope").status_int, 400)
        named = self.request("GET", "/v2.1/servers?name=vm3").json["servers"]
        self.assertEqual([s["name"] for s in named], ["vm3"])
        self.assertEqual(len(self.request("GET", "/v2.1/servers?status=BUILD").json["servers"]), 5)
        self.assertEqual(self.request("GET", "/v2.1/servers?status=ACTIVE").json["servers"], [])
        self.assertEqual(self.request("GET", "/v2.1/servers?color=red").status_int, 400)

    def test_next_link_keeps_query_values_intact(self):
        for i in range(2):
            self.create_server(name=f"a&b=c {i}")
        first = self.request("GET", "/v2.1/servers?limit=1&name=a%26b%3Dc").json
        next_href = first["servers_links"][0]["href"]
        path = next_href.removeprefix("http://localhost")
        second = self.request("GET", path).json
        self.assertEqual([s["name"] for s in second["servers"]], ["a&b=c 0"])

    def test_error_server_shows_its_fault(self):
        server_id = self.create_server()
        admin = nova_context.get_admin_context()
        instance = db_api.instance_update(admin, server_id, {"vm_state": "error"})
        db_api.instance_fault_create(
            admin,
            instance.id,
            {"code": 500, "message": "No valid host was found", "details": "trace"},
        )
        fault = self.request("GET", f"/v2.1/servers/{server_id}").json["server"]["fault"]
        self.assertEqual((fault["code"], fault["message"]), (500, "No valid host was found"))
        self.assertNotIn("details", fault)
        as_admin = self.request("GET", f"/v2.1/servers/{server_id}", token="admin:admin").json
        self.assertEqual(as_admin["server"]["fault"]["details"], "trace")
        self.assertEqual(as_admin["server"]["status"], "ERROR")

    def test_schema_rejections_write_nothing(self):
        base = {"name": "vm", "imageRef": "cirros", "flavorRef": "1"}
        bodies = [
            {},
            {"server": {}},
            {"server": {**base, "name": ""}},
            {"server": {**base, "name": " padded "}},
            {"server": {**base, "min_count": 0}},
            {"server": {**base, "max_count": "2"}},
            {"server": {**base, "metadata": {"k": 1}}},
            {"server": {**base, "unknown": True}},
            {"server": {**base, "launch": "no"}},
            {"server": {**base, "networks": [{"uuid": "not-a-uuid"}]}},
            {
                "server": {
                    **base,
                    "networks": [{"uuid": str(uuid.uuid4()), "fixed_ip": "10.0.0.300"}],
                }
            },
            {"server": {**base, "networks": [{"fixed_ip": "10.0.0.3"}]}},
            {"server": {**base, "networks": "some"}},
            {"server": {**base, "flavorRef": "99"}},
            {"other": {}},
        ]
        for body in bodies:
            with self.subTest(body=body):
                response = self.request("POST", "/v2.1/servers", body)
                self.assertEqual(response.status_int, 400, response.text)
                self.assertIn("badRequest", response.json)
        self.assertEqual(self.count("instances", live=False), 0)
        self.assertEqual(self.count("virtual_interfaces", live=False), 0)

    def test_unknown_server(self):
        missing = str(uuid.uuid4())
        for method, path, body in (
            ("GET", f"/v2.1/servers/{missing}", None),
            ("PUT", f"/v2.1/servers/{missing}", {"server": {"name": "x"}}),
            ("DELETE", f"/v2.1/servers/{missing}", None),
            ("POST", f"/v2.1/servers/{missing}/action", {"launch": None}),
        ):
            with self.subTest(method=method):
                response = self.request(method, path, body)
                self.assertEqual(response.status_int, 404)
                self.assertIn("itemNotFound", response.json)

    def test_unknown_action(self):
        server_id = self.create_server()
        response = self.request("POST", f"/v2.1/servers/{server_id}/action", {"reboot": {}})
        self.assertEqual(response.status_int, 400)


class IsolationTestCase(api_fixtures.APITestCase):
    def test_another_project_sees_404_and_changes_nothing(self):
        network = self.quantum_network()
        server_id = self.create_server(networks=[{"uuid": network}], launch=False)
        vif_id = self.request("GET", f"/v2.1/servers/{server_id}/os-virtual-interfaces").json[
            "virtual_interfaces"
        ][0]["id"]
        paths = [
            ("GET", f"/v2.1/servers/{server_id}", None),
            ("PUT", f"/v2.1/servers/{server_id}", {"server": {"name": "stolen"}}),
            ("DELETE", f"/v2.1/servers/{server_id}", None),
            ("POST", f"/v2.1/servers/{server_id}/action", {"launch": None}),
            ("GET", f"/v2.1/servers/{server_id}/os-virtual-interfaces", None),
            ("GET", f"/v2.1/servers/{server_id}/os-virtual-interfaces/{vif_id}", None),
            ("GET", f"/v2.1/other/servers/{server_id}", None),
        ]
        for method, path, body in paths:
            with self.subTest(method=method, path=path):
                response = self.request(method, path, body, token="mallory:other")
                self.assertEqual(response.status_int, 404, response.text)
        self.assertEqual(
            self.request("GET", "/v2.1/servers", token="mallory:other").json["servers"], []
        )
        server = self.request("GET", f"/v2.1/servers/{server_id}").json["server"]
        self.assertEqual((server["name"], server["status"]), ("vm", "DEFINED"))
        self.scheduled.assert_not_called()


class LaunchTestCase(api_fixtures.APITestCase):
    def test_define_then_launch(self):
        network = self.quantum_network()
        server_id = self.create_server(networks=[{"uuid": network}], launch=False)
        server = self.request("GET", f"/v2.1/servers/{server_id}").json["server"]
        self.assertEqual(server["status"], "DEFINED")
        self.scheduled.assert_not_called()
        # VIFs and their attachments exist at define time.
        (vif,) = self.request("GET", f"/v2.1/servers/{server_id}/os-virtual-interfaces").json[
            "virtual_interfaces"
        ]
        (port,) = self.quantum_ports(network)
        self.assertEqual(self.attachment(network, port), {"id": vif["id"]})

        launched = self.request("POST", f"/v2.1/servers/{server_id}/action", {"launch": None})
        self.assertEqual((launched.status_int, launched.body), (202, b""))
        self.assertEqual(
            self.request("GET", f"/v2.1/servers/{server_id}").json["server"]["status"], "BUILD"
        )
        self.scheduled.assert_called_once()
        self.assertEqual(self.scheduled.call_args.args[1], [server_id])

        again = self.request("POST", f"/v2.1/servers/{server_id}/action", {"launch": None})
        self.assertEqual(again.status_int, 409)
        self.assertIn("building", again.json["conflictingRequest"]["message"])

    def test_launch_takes_null(self):
        server_id = self.create_server(launch=False)
        response = self.request("POST", f"/v2.1/servers/{server_id}/action", {"launch": {"x": 1}})
        self.assertEqual(response.status_int, 400)

    def test_concurrent_launches_give_one_202(self):
        server_id = self.create_server(launch=False)
        results = []

        def launch():
            response = self.request("POST", f"/v2.1/servers/{server_id}/action", {"launch": None})
            results.append(response.status_int)

        threads = [threading.Thread(target=launch) for _ in range(10)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(sorted(results), [202] + [409] * 9)
        self.assertEqual(self.scheduled.call_count, 1)
