"""Servers, flavors, versions, auth and faults of the compute API."""

from __future__ import annotations

import datetime
import threading
import urllib.parse
import uuid
from unittest import mock

import sqlalchemy as sa

import nova.conf
from nova import context as nova_context
from nova.db import instances as instance_db
from nova.db import models
from nova.db import services as service_db
from nova.db import session as db_session
from tests.fixtures import api as api_fixtures

SERVER_KEYS = {
    "id", "name", "status", "image", "flavor", "user_id", "tenant_id",
    "created", "updated", "metadata", "links", "addresses", "hostId",
}  # fmt: skip


class VersionsTestCase(api_fixtures.APITestCase):
    def test_version_documents(self):
        root = self.request("GET", "/", token=None)
        self.assertEqual(root.status_int, 200)
        self.assertEqual([v["id"] for v in root.json["versions"]], ["v2.0", "v2.1"])
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
            "nova.db.views.instance_get_all_for_view", side_effect=RuntimeError("secret")
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
        # Unknown parameters are ignored, as Nova 2.1 does.
        self.assertEqual(len(self.request("GET", "/v2.1/servers?color=red").json["servers"]), 5)

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
        instance = instance_db.instance_update(admin, server_id, {"vm_state": "error"})
        instance_db.instance_fault_create(
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
            {"server": {**base, "max_count": "two"}},
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


class ChangesSinceTestCase(api_fixtures.APITestCase):
    """``?changes-since=``: the servers changed since a time, deleted ones included."""

    def backdate(self, server_id: str, when: datetime.datetime) -> None:
        """Make a server look created at ``when`` and never updated since."""
        instances = models.Instance.__table__
        with db_session.get_engine().begin() as connection:
            connection.execute(
                sa.update(instances)
                .where(instances.c.uuid == server_id)
                .values(created_at=when, updated_at=None)
            )

    def listed(self, query: str, detail: bool = True, token: str = "alice:demo") -> dict:
        """Return ``{id: status (detail) or name}`` of the listing with ``query``."""
        path = "/v2.1/servers/detail" if detail else "/v2.1/servers"
        response = self.request("GET", f"{path}?{query}", token=token)
        self.assertEqual(response.status_int, 200, response.text)
        key = "status" if detail else "name"
        return {server["id"]: server[key] for server in response.json["servers"]}

    @staticmethod
    def since(when: datetime.datetime) -> str:
        return urllib.parse.urlencode({"changes-since": when.isoformat() + "Z"})

    def test_only_servers_changed_since_then(self):
        hour_ago = models.utcnow() - datetime.timedelta(hours=1)
        old, renamed, fresh = (self.create_server(name=name) for name in ("old", "r", "fresh"))
        for server_id in (old, renamed):
            self.backdate(server_id, hour_ago - datetime.timedelta(hours=1))
        self.request("PUT", f"/v2.1/servers/{renamed}", {"server": {"name": "renamed"}})
        since = self.since(hour_ago)
        self.assertEqual(self.listed(since), {renamed: "BUILD", fresh: "BUILD"})
        self.assertEqual(self.listed(since, detail=False), {renamed: "renamed", fresh: "fresh"})
        # Without it, every server; with a time to come, none.
        self.assertEqual(set(self.listed("")), {old, renamed, fresh})
        tomorrow = models.utcnow() + datetime.timedelta(days=1)
        self.assertEqual(self.listed(self.since(tomorrow)), {})
        # With the other filters and paging.
        self.assertEqual(self.listed(f"{since}&name=fresh"), {fresh: "BUILD"})
        self.assertEqual(self.listed(f"{since}&status=ACTIVE"), {})
        first = self.request("GET", f"/v2.1/servers?{since}&limit=1").json
        self.assertEqual([s["id"] for s in first["servers"]], [fresh])
        next_path = first["servers_links"][0]["href"].removeprefix("http://localhost")
        self.assertIn("changes-since=", next_path)
        self.assertEqual(
            [s["id"] for s in self.request("GET", next_path).json["servers"]], [renamed]
        )

    def test_deleted_servers_show_as_deleted_only_with_changes_since(self):
        kept, deleted = self.create_server(name="kept"), self.create_server(name="deleted")
        before = models.utcnow() - datetime.timedelta(seconds=5)
        self.assertEqual(self.request("DELETE", f"/v2.1/servers/{deleted}").status_int, 204)
        self.assertEqual(set(self.listed("")), {kept})
        self.assertEqual(set(self.listed("", detail=False)), {kept})
        self.assertEqual(self.listed(self.since(before)), {kept: "BUILD", deleted: "DELETED"})
        self.assertEqual(
            self.listed(self.since(before), detail=False), {kept: "kept", deleted: "deleted"}
        )
        servers = self.request("GET", f"/v2.1/servers/detail?{self.since(before)}").json
        # Newest first, the deleted server included.
        self.assertEqual([s["id"] for s in servers["servers"]], [deleted, kept])
        server = servers["servers"][0]
        self.assertEqual(
            (server["OS-EXT-STS:vm_state"], server["OS-EXT-STS:task_state"]), ("deleted", None)
        )
        # Nova's format for the usage times: microseconds, no zone suffix (UTC).
        terminated = datetime.datetime.strptime(
            server["OS-SRV-USG:terminated_at"], "%Y-%m-%dT%H:%M:%S.%f"
        )
        self.assertLess(abs(terminated - models.utcnow()), datetime.timedelta(minutes=1))
        self.assertIsNone(server["OS-SRV-USG:launched_at"])
        # A page may end on the deleted server: the next one starts after it.
        self.assertEqual(self.listed(f"{self.since(before)}&marker={deleted}"), {kept: "BUILD"})
        # Still gone for everything else.
        self.assertEqual(self.request("GET", f"/v2.1/servers/{deleted}").status_int, 404)
        self.assertEqual(self.request("GET", f"/v2.1/servers?marker={deleted}").status_int, 400)

    def test_another_projects_servers_never_appear(self):
        before = models.utcnow() - datetime.timedelta(seconds=5)
        mine = self.create_server()
        theirs, their_deleted = (self.create_server(token="mallory:other") for _ in range(2))
        self.request("DELETE", f"/v2.1/servers/{their_deleted}", token="mallory:other")
        since = self.since(before)
        self.assertEqual(self.listed(since), {mine: "BUILD"})
        self.assertEqual(
            self.listed(since, token="mallory:other"),
            {theirs: "BUILD", their_deleted: "DELETED"},
        )
        # Their deleted server is no marker of mine.
        response = self.request("GET", f"/v2.1/servers/detail?{since}&marker={their_deleted}")
        self.assertEqual(response.status_int, 400)
        self.assertEqual(
            set(self.listed(f"{since}&all_tenants=1", token="admin:admin")),
            {mine, theirs, their_deleted},
        )

    def test_timestamps_as_nova_reads_them(self):
        server_id = self.create_server()
        now = models.utcnow()
        earlier = now - datetime.timedelta(minutes=1, microseconds=250)
        later = now + datetime.timedelta(minutes=1)
        plus_one = datetime.timezone(datetime.timedelta(hours=1))
        accepted = {
            earlier.strftime("%Y-%m-%dT%H:%M:%SZ"): True,
            earlier.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00"): True,
            earlier.strftime("%Y-%m-%dt%H:%M:%S.%fz"): True,
            earlier.strftime("%Y-%m-%d %H:%M:%S"): True,  # no offset: UTC
            earlier.strftime("%Y-%m-%d"): True,  # its midnight
            later.strftime("%Y-%m-%dT%H:%M:%S.%fZ"): False,
            # The same instants with an offset: an hour later on the clock, a minute away.
            earlier.replace(tzinfo=datetime.UTC).astimezone(plus_one).isoformat(): True,
            later.replace(tzinfo=datetime.UTC)
            .astimezone(plus_one)
            .strftime("%Y-%m-%dT%H:%M:%S%z"): False,
        }
        for value, listed in accepted.items():
            with self.subTest(value=value):
                query = urllib.parse.urlencode({"changes-since": value})
                self.assertEqual(self.listed(query), {server_id: "BUILD"} if listed else {})

    def test_a_malformed_time_is_a_400(self):
        for value in (
            "",
            "yesterday",
            "1700000000",
            "2026-13-01T00:00:00Z",
            "2026-11-22T25:00:00Z",
            "2026-11-22T01:02:03 00:00",  # "+00:00" with its "+" not escaped
            "0001-01-01T00:00:00+01:00",  # before year 1 in UTC
            "2026-11-22T01:02:03Z" + "0" * 60,
        ):
            for path in ("/v2.1/servers", "/v2.1/servers/detail"):
                with self.subTest(value=value, path=path):
                    query = urllib.parse.urlencode({"changes-since": value})
                    response = self.request("GET", f"{path}?{query}")
                    self.assertEqual(response.status_int, 400, response.text)
                    message = response.json["badRequest"]["message"]
                    self.assertIn("changes-since", message)


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


class DeleteOnDownHostTestCase(api_fixtures.APITestCase):
    """A server whose host's compute is down is deleted without it (Nova's local delete)."""

    def setUp(self) -> None:
        super().setUp()
        cast = mock.patch("nova.compute.rpcapi.ComputeAPI.terminate_instance")
        self.terminate = cast.start()
        self.addCleanup(cast.stop)

    def place(self, server_id: str, host: str, heartbeat_age: int) -> None:
        """Put the server ACTIVE on ``host`` with its claim, the host last heard of then."""
        admin = nova_context.get_admin_context()
        service = service_db.service_get_or_create(admin, host, "nova-compute", {})
        service_db.compute_node_update(
            admin,
            host,
            service.id,
            {"vcpus": 8, "memory_mb": 8192, "local_gb": 100, "hypervisor_type": "t"},
        )
        ratios = {"ram": 1.0, "cpu": 1.0, "disk": 1.0}
        service_db.instance_claim(
            admin, server_id, host, ratios, (512, 1, 1), {"host": host}, {"host": None}
        )
        instance_db.instance_update(admin, server_id, {"vm_state": "active", "task_state": None})
        seen = models.utcnow() - datetime.timedelta(seconds=heartbeat_age)
        with db_session.get_engine().begin() as connection:
            connection.execute(
                models.Service.__table__.update()
                .where(models.Service.host == host)
                .values(updated_at=seen, created_at=seen)
            )

    def used_memory(self, host: str) -> int:
        with db_session.get_engine().connect() as connection:
            return connection.execute(
                sa.text("SELECT memory_mb_used FROM compute_nodes WHERE host = :h"), {"h": host}
            ).scalar()

    def test_delete_on_a_down_host_completes_here_and_releases_everything(self):
        network = self.quantum_network()
        server_id = self.create_server(networks=[{"uuid": network}])
        self.assertEqual(len(self.quantum_ports(network)), 1)
        self.place(server_id, "dead", heartbeat_age=nova.conf.CONF.service_down_time + 10)
        self.assertEqual(self.used_memory("dead"), 512)

        self.assertEqual(self.request("DELETE", f"/v2.1/servers/{server_id}").status_int, 204)
        self.terminate.assert_not_called()
        self.assertEqual(self.request("GET", f"/v2.1/servers/{server_id}").status_int, 404)
        self.assertEqual(self.used_memory("dead"), 0)
        self.assertEqual(self.quantum_ports(network), [])
        self.assertEqual(self.count("virtual_interfaces"), 0)

    def test_delete_on_a_live_host_goes_to_its_compute(self):
        server_id = self.create_server(networks="none")
        self.place(server_id, "alive", heartbeat_age=0)
        self.assertEqual(self.request("DELETE", f"/v2.1/servers/{server_id}").status_int, 204)
        self.terminate.assert_called_once()
        self.assertEqual(self.used_memory("alive"), 512)  # compute releases it when done
        shown = self.request("GET", f"/v2.1/servers/{server_id}").json["server"]
        self.assertEqual(shown["OS-EXT-STS:task_state"], "deleting")
