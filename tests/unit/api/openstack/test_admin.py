"""Flavor extra specs, flavor-manage, os-services and os-hypervisors of the compute API."""

from __future__ import annotations

import datetime
import json
import uuid
from unittest import mock

import sqlalchemy as sa
from oslo_db import exception as db_exception

import nova.conf
from nova import context as nova_context
from nova.compute import host_api
from nova.compute import manager as compute_manager
from nova.db import flavors as flavor_db
from nova.db import models
from nova.db import services as service_db
from nova.db import session as db_session
from nova.scheduler import filters
from nova.scheduler import manager as scheduler_manager
from nova.virt import fake
from tests.fixtures import api as api_fixtures

CONF = nova.conf.CONF

ADMIN = "admin:admin"
USER = "alice:demo"
SPECS = "/v2.1/flavors/1/os-extra_specs"
# The keys tempest's v2.1 schemas require of a hypervisor in detail and of the statistics.
HYPERVISOR_DETAIL_KEYS = {
    "cpu_info", "current_workload", "disk_available_least", "host_ip", "free_disk_gb",
    "free_ram_mb", "hypervisor_hostname", "hypervisor_type", "hypervisor_version", "id",
    "local_gb", "local_gb_used", "memory_mb", "memory_mb_used", "running_vms", "service",
    "vcpus", "vcpus_used", "state", "status",
}  # fmt: skip
STATISTICS_KEYS = {
    "count", "current_workload", "disk_available_least", "free_disk_gb", "free_ram_mb",
    "local_gb", "local_gb_used", "memory_mb", "memory_mb_used", "running_vms", "vcpus",
    "vcpus_used",
}  # fmt: skip
SERVICE_KEYS = {
    "id", "binary", "host", "zone", "status", "state", "updated_at", "disabled_reason",
}  # fmt: skip


class AdminTestCase(api_fixtures.APITestCase):
    def rows(self, statement: str) -> list:
        with db_session.get_engine().connect() as connection:
            return connection.execute(sa.text(statement)).all()

    def assert_fault(self, response, code: int, name: str) -> None:
        self.assertEqual(response.status_int, code, response.text)
        self.assertEqual(response.json[name]["code"], code)
        self.assertTrue(response.json[name]["message"])


class FlavorExtraSpecsTestCase(AdminTestCase):
    def test_admin_writes_everyone_reads(self):
        self.assertEqual(self.request("GET", SPECS).json, {"extra_specs": {}})
        body = {"extra_specs": {"hw:cpu_policy": "shared", "hw:numa_nodes": 1}}
        created = self.request("POST", SPECS, body, token=ADMIN)
        self.assertEqual(created.status_int, 200, created.text)
        self.assertEqual(created.json, body)  # as sent, as Nova answers
        # Stored as strings, read by any user.
        expected = {"hw:cpu_policy": "shared", "hw:numa_nodes": "1"}
        self.assertEqual(self.request("GET", SPECS).json, {"extra_specs": expected})
        shown = self.request("GET", f"{SPECS}/hw:numa_nodes")
        self.assertEqual((shown.status_int, shown.json), (200, {"hw:numa_nodes": "1"}))
        # Create merges: the other keys stay.
        self.request("POST", SPECS, {"extra_specs": {"a b.c-d_e": "x"}}, token=ADMIN)
        self.assertEqual(len(self.request("GET", SPECS).json["extra_specs"]), 3)
        # Every character a key may have goes through the URL too.
        dotted = self.request("GET", f"{SPECS}/a%20b.c-d_e")
        self.assertEqual((dotted.status_int, dotted.json), (200, {"a b.c-d_e": "x"}))
        updated = self.request(
            "PUT", f"{SPECS}/hw:cpu_policy", {"hw:cpu_policy": "dedicated"}, token=ADMIN
        )
        self.assertEqual((updated.status_int, updated.json), (200, {"hw:cpu_policy": "dedicated"}))
        self.assertEqual(
            self.request("GET", SPECS).json["extra_specs"]["hw:cpu_policy"], "dedicated"
        )
        deleted = self.request("DELETE", f"{SPECS}/hw:cpu_policy", token=ADMIN)
        self.assertEqual((deleted.status_int, deleted.body), (200, b""))
        self.assert_fault(self.request("GET", f"{SPECS}/hw:cpu_policy"), 404, "itemNotFound")
        self.assert_fault(
            self.request("DELETE", f"{SPECS}/hw:cpu_policy", token=ADMIN), 404, "itemNotFound"
        )
        # Another flavor has its own.
        self.assertEqual(
            self.request("GET", "/v2.1/flavors/2/os-extra_specs").json["extra_specs"], {}
        )
        # Deleted then set again: a new live row beside the deleted one.
        self.request("PUT", f"{SPECS}/hw:cpu_policy", {"hw:cpu_policy": "shared"}, token=ADMIN)
        self.assertEqual(
            self.rows("SELECT COUNT(*) FROM flavor_extra_specs WHERE key = 'hw:cpu_policy'")[0][0],
            2,
        )

    def test_a_key_created_concurrently_becomes_an_update(self):
        real = flavor_db._extra_specs_write
        calls = []

        def racing(context, flavor_id, specs):
            calls.append(specs)
            if len(calls) == 1:  # another request inserts the key first
                real(context, flavor_id, {"k": "theirs"})
                raise db_exception.DBDuplicateEntry(columns=["key"])
            return real(context, flavor_id, specs)

        with mock.patch.object(flavor_db, "_extra_specs_write", racing):
            response = self.request("POST", SPECS, {"extra_specs": {"k": "ours"}}, token=ADMIN)
        self.assertEqual(response.status_int, 200, response.text)
        self.assertEqual(self.request("GET", SPECS).json, {"extra_specs": {"k": "ours"}})
        self.assertEqual(len(calls), 2)
        with mock.patch.object(
            flavor_db, "_extra_specs_write", side_effect=db_exception.DBDuplicateEntry()
        ):
            response = self.request("PUT", f"{SPECS}/k", {"k": "again"}, token=ADMIN)
        self.assert_fault(response, 409, "conflictingRequest")

    def test_users_may_not_write(self):
        self.request("POST", SPECS, {"extra_specs": {"k": "v"}}, token=ADMIN)
        before = self.rows("SELECT * FROM flavor_extra_specs")
        for method, path, body in (
            ("POST", SPECS, {"extra_specs": {"k": "w"}}),
            ("PUT", f"{SPECS}/k", {"k": "w"}),
            ("DELETE", f"{SPECS}/k", None),
        ):
            with self.subTest(method=method):
                self.assert_fault(self.request(method, path, body, token=USER), 403, "forbidden")
        self.assertEqual(self.rows("SELECT * FROM flavor_extra_specs"), before)

    def test_bad_input_is_400_and_writes_nothing(self):
        cases = [
            ("POST", SPECS, {}),
            ("POST", SPECS, {"extra_specs": {"bad/key": "v"}}),
            ("POST", SPECS, {"extra_specs": {"": "v"}}),
            ("POST", SPECS, {"extra_specs": {"k": "v" * 256}}),
            ("POST", SPECS, {"extra_specs": {"k": True}}),
            ("POST", SPECS, {"extra_specs": {"k": None}}),
            ("POST", SPECS, {"extra_specs": {"k": "v"}, "other": 1}),
            ("PUT", f"{SPECS}/k", {"other": "v"}),  # body and URL disagree
            ("PUT", f"{SPECS}/k", {"k": "v", "l": "w"}),
            ("PUT", f"{SPECS}/k", {}),
        ]
        for method, path, body in cases:
            with self.subTest(body=body):
                self.assert_fault(self.request(method, path, body, token=ADMIN), 400, "badRequest")
        self.assertEqual(self.count("flavor_extra_specs", live=False), 0)

    def test_unknown_flavor_is_404(self):
        for method, path, body in (
            ("GET", "/v2.1/flavors/99/os-extra_specs", None),
            ("GET", "/v2.1/flavors/99/os-extra_specs/k", None),
            ("POST", "/v2.1/flavors/99/os-extra_specs", {"extra_specs": {"k": "v"}}),
            ("PUT", "/v2.1/flavors/99/os-extra_specs/k", {"k": "v"}),
            ("DELETE", "/v2.1/flavors/99/os-extra_specs/k", None),
        ):
            with self.subTest(method=method, path=path):
                self.assert_fault(
                    self.request(method, path, body, token=ADMIN), 404, "itemNotFound"
                )
        self.assertEqual(self.count("flavor_extra_specs", live=False), 0)


class FlavorManageTestCase(AdminTestCase):
    def create(self, token: str = ADMIN, **values):
        flavor = {"name": "test_flavor", "ram": 1024, "vcpus": 2, "disk": 10, **values}
        return self.request("POST", "/v2.1/flavors", {"flavor": flavor}, token=token)

    def test_create_as_novas_sample(self):
        response = self.create(id="10", rxtx_factor=2.0)
        self.assertEqual(response.status_int, 200, response.text)
        flavor = response.json["flavor"]
        links = flavor.pop("links")
        self.assertEqual(
            flavor,
            {
                "OS-FLV-DISABLED:disabled": False,
                "disk": 10,
                "OS-FLV-EXT-DATA:ephemeral": 0,
                "os-flavor-access:is_public": True,
                "id": "10",
                "name": "test_flavor",
                "ram": 1024,
                "swap": "",
                "rxtx_factor": 2.0,
                "vcpus": 2,
            },
        )
        self.assertEqual([link["rel"] for link in links], ["self", "bookmark"])
        shown = self.request("GET", "/v2.1/flavors/10").json["flavor"]
        self.assertEqual((shown["name"], shown["rxtx_factor"]), ("test_flavor", 2.0))
        self.assertIn("10", [f["id"] for f in self.request("GET", "/v2.1/flavors").json["flavors"]])

    def test_ids_generated_or_taken_as_given(self):
        for name, values in (("absent", {}), ("null", {"id": None})):
            flavor = self.create(name=name, **values).json["flavor"]
            self.assertEqual(str(uuid.UUID(flavor["id"])), flavor["id"])
        self.assertEqual(self.create(name="number", id=11).json["flavor"]["id"], "11")
        as_strings = self.create(
            name="strings", ram="64", vcpus="1", disk="0", swap="512",
            **{"OS-FLV-EXT-DATA:ephemeral": "5", "os-flavor-access:is_public": "false"},
        ).json["flavor"]  # fmt: skip
        self.assertEqual(
            (as_strings["ram"], as_strings["swap"], as_strings["OS-FLV-EXT-DATA:ephemeral"]),
            (64, 512, 5),
        )
        self.assertFalse(as_strings["os-flavor-access:is_public"])

    def test_a_private_flavor_is_the_admins_only(self):
        self.create(id="10", **{"os-flavor-access:is_public": False})
        for token, seen in ((USER, False), (ADMIN, True)):
            with self.subTest(token=token):
                for path in ("/v2.1/flavors", "/v2.1/flavors/detail"):
                    # Admins list public flavors unless they ask for both (as Nova).
                    query = "?is_public=None" if token == ADMIN else ""
                    listed = self.request("GET", path + query, token=token).json["flavors"]
                    self.assertEqual("10" in [f["id"] for f in listed], seen)
                shown = self.request("GET", "/v2.1/flavors/10", token=token)
                self.assertEqual(shown.status_int, 200 if seen else 404)
                specs = self.request("GET", "/v2.1/flavors/10/os-extra_specs", token=token)
                self.assertEqual(specs.status_int, 200 if seen else 404)
        self.create_server(flavorRef="10", expect=400)
        self.create_server(token=ADMIN, flavorRef="10")

    def test_duplicates_are_409(self):
        self.assertEqual(self.create(id="10").status_int, 200)
        before = self.count("flavors", live=False)
        self.assert_fault(self.create(id="10", name="other"), 409, "conflictingRequest")
        self.assert_fault(self.create(id="12"), 409, "conflictingRequest")  # same name
        self.assert_fault(self.create(id="1", name="x"), 409, "conflictingRequest")
        self.assert_fault(self.create(name="m1.tiny"), 409, "conflictingRequest")
        self.assertEqual(self.count("flavors", live=False), before)

    def test_bad_bodies_are_400_and_write_nothing(self):
        before = self.count("flavors", live=False)
        for values in (
            {"ram": 0},
            {"vcpus": -1},
            {"disk": "ten"},
            {"ram": 1.5},
            {"ram": 0x80000000},
            {"name": ""},
            {"name": " padded"},
            {"id": " x"},
            {"id": "a/b"},
            {"rxtx_factor": 0},
            {"os-flavor-access:is_public": "maybe"},
            {"description": "2.55 only"},
            {"unknown": 1},
        ):
            with self.subTest(values=values):
                self.assert_fault(self.create(**values), 400, "badRequest")
        missing = self.request("POST", "/v2.1/flavors", {"flavor": {"name": "x"}}, token=ADMIN)
        self.assert_fault(missing, 400, "badRequest")
        self.assertEqual(self.count("flavors", live=False), before)

    def test_users_may_not_create_or_delete(self):
        before = self.rows("SELECT * FROM flavors")
        self.assert_fault(self.create(token=USER), 403, "forbidden")
        self.assert_fault(self.request("DELETE", "/v2.1/flavors/1"), 403, "forbidden")
        self.assertEqual(self.rows("SELECT * FROM flavors"), before)

    def test_delete_keeps_the_servers_of_that_flavor_whole(self):
        self.create(id="10")
        self.request(
            "POST", "/v2.1/flavors/10/os-extra_specs", {"extra_specs": {"k": "v"}}, token=ADMIN
        )
        server_id = self.create_server(flavorRef="10")
        deleted = self.request("DELETE", "/v2.1/flavors/10", token=ADMIN)
        self.assertEqual((deleted.status_int, deleted.body), (202, b""))
        self.assert_fault(self.request("GET", "/v2.1/flavors/10"), 404, "itemNotFound")
        self.assert_fault(
            self.request("DELETE", "/v2.1/flavors/10", token=ADMIN), 404, "itemNotFound"
        )
        self.assertNotIn(
            "10", [f["id"] for f in self.request("GET", "/v2.1/flavors").json["flavors"]]
        )
        self.assertEqual(self.count("flavor_extra_specs"), 0)
        server = self.request("GET", f"/v2.1/servers/{server_id}").json["server"]
        self.assertEqual(server["flavor"]["id"], "10")
        self.assertEqual(len(self.request("GET", "/v2.1/servers/detail").json["servers"]), 1)
        # A server cannot be made of it any more; its id and name are free again.
        self.create_server(flavorRef="10", expect=400)
        self.assertEqual(self.create(id="10").status_int, 200)
        self.assertEqual(self.request("GET", f"/v2.1/servers/{server_id}").status_int, 200)


class HostsTestCase(AdminTestCase):
    """A scheduler on ``ctl``, a compute with its node on ``c1``, both heartbeating."""

    def setUp(self) -> None:
        super().setUp()
        self.context = nova_context.get_admin_context()
        self.scheduler = service_db.service_get_or_create(
            self.context, "ctl", "nova-scheduler", {"topic": "scheduler"}
        )
        self.compute = service_db.service_get_or_create(
            self.context, "c1", "nova-compute", {"topic": "compute", "availability_zone": "nova"}
        )
        for service in (self.scheduler, self.compute):
            service_db.service_heartbeat(self.context, service.id)
        service_db.compute_node_update(
            self.context,
            "c1",
            self.compute.id,
            {
                "vcpus": 4, "memory_mb": 8192, "local_gb": 100, "hypervisor_type": "QEMU",
                "hypervisor_version": 9000000, "cpu_info": json.dumps({"arch": "x86_64"}),
                "host_ip": "192.0.2.10",
            },
        )  # fmt: skip


class ServicesTestCase(HostsTestCase):
    def services(self, query: str = "") -> list[dict]:
        response = self.request("GET", f"/v2.1/os-services{query}", token=ADMIN)
        self.assertEqual(response.status_int, 200, response.text)
        return response.json["services"]

    def toggle(self, action: str, body: dict, token: str = ADMIN):
        return self.request("PUT", f"/v2.1/os-services/{action}", body, token=token)

    def test_list_as_nova_2_1(self):
        services = self.services()
        self.assertEqual([set(s) for s in services], [SERVICE_KEYS, SERVICE_KEYS])
        scheduler, compute = services
        self.assertEqual(
            (scheduler["id"], scheduler["binary"], scheduler["zone"], scheduler["state"]),
            (self.scheduler.id, "nova-scheduler", "internal", "up"),
        )
        self.assertEqual(
            (compute["host"], compute["zone"], compute["status"], compute["disabled_reason"]),
            ("c1", "nova", "enabled", None),
        )
        self.assertRegex(compute["updated_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$")
        self.assertEqual(
            [s["binary"] for s in self.services("?binary=nova-compute")], ["nova-compute"]
        )
        self.assertEqual([s["binary"] for s in self.services("?host=ctl")], ["nova-scheduler"])
        self.assertEqual(self.services("?host=nowhere"), [])
        self.assertEqual(len(self.services("?unknown=1")), 2)  # ignored, as Nova 2.1 does

    def test_state_follows_the_heartbeat(self):
        stale = models.utcnow() - datetime.timedelta(seconds=CONF.service_down_time + 5)
        with db_session.writer() as conn:
            conn.execute(
                sa.text("UPDATE services SET updated_at = :t WHERE id = :i"),
                {"t": stale, "i": self.compute.id},
            )
        states = {s["binary"]: s["state"] for s in self.services()}
        self.assertEqual(states, {"nova-scheduler": "up", "nova-compute": "down"})

    def test_disable_enable_and_the_scheduler(self):
        body = {"host": "c1", "binary": "nova-compute"}
        heartbeat = self.rows(f"SELECT updated_at FROM services WHERE id = {self.compute.id}")
        response = self.toggle("disable", body)
        self.assertEqual(response.status_int, 200, response.text)
        self.assertEqual(response.json, {"service": {**body, "status": "disabled"}})
        self.assertEqual(self.services("?binary=nova-compute")[0]["status"], "disabled")
        # An operator's change is not a heartbeat.
        self.assertEqual(
            self.rows(f"SELECT updated_at FROM services WHERE id = {self.compute.id}"), heartbeat
        )
        scheduler = scheduler_manager.SchedulerManager(compute=object())
        spec = filters.RequestSpec(memory_mb=512, vcpus=1, root_gb=1, availability_zone=None)
        self.assertEqual(filters.filter_hosts(scheduler.host_states(self.context), spec), [])

        logged = self.toggle("disable-log-reason", {**body, "disabled_reason": "maintenance"})
        self.assertEqual(
            logged.json,
            {"service": {**body, "status": "disabled", "disabled_reason": "maintenance"}},
        )
        self.assertEqual(self.services("?host=c1")[0]["disabled_reason"], "maintenance")
        hypervisor = self.request("GET", "/v2.1/os-hypervisors", token=ADMIN).json["hypervisors"][0]
        self.assertEqual(hypervisor["status"], "disabled")

        enabled = self.toggle("enable", body)
        self.assertEqual(enabled.json, {"service": {**body, "status": "enabled"}})
        listed = self.services("?host=c1")[0]
        self.assertEqual((listed["status"], listed["disabled_reason"]), ("enabled", None))
        hosts = filters.filter_hosts(scheduler.host_states(self.context), spec)
        self.assertEqual([h.host for h in hosts], ["c1"])

    def test_refusals(self):
        body = {"host": "c1", "binary": "nova-compute"}
        before = self.rows("SELECT * FROM services")
        cases = [
            ("disable", body, USER, 403, "forbidden"),
            ("disable-log-reason", body, ADMIN, 400, "badRequest"),  # no reason
            (
                "disable",
                {**body, "binary": "nova-scheduler", "host": "ctl"},
                ADMIN,
                400,
                "badRequest",
            ),
            ("disable", {"host": "c1"}, ADMIN, 400, "badRequest"),
            ("disable", {**body, "extra": 1}, ADMIN, 400, "badRequest"),
            ("disable", {**body, "host": "bad host"}, ADMIN, 400, "badRequest"),
            ("disable", {**body, "disabled_reason": ""}, ADMIN, 400, "badRequest"),
            ("disable", {**body, "host": "c2"}, ADMIN, 404, "itemNotFound"),
            ("force-down", {**body, "forced_down": True}, ADMIN, 400, "badRequest"),  # 2.11
            ("force-down", body, ADMIN, 404, "itemNotFound"),
            ("reboot", body, ADMIN, 404, "itemNotFound"),
        ]
        for action, payload, token, code, name in cases:
            with self.subTest(action=action, payload=payload):
                self.assert_fault(self.toggle(action, payload, token), code, name)
        self.assert_fault(self.request("GET", "/v2.1/os-services"), 403, "forbidden")
        self.assertEqual(self.rows("SELECT * FROM services"), before)

    def test_delete(self):
        before = self.rows("SELECT * FROM services")
        for service_id, token, code, name in (
            (str(self.compute.id), USER, 403, "forbidden"),
            ("abc", ADMIN, 400, "badRequest"),
            ("-1", ADMIN, 400, "badRequest"),
            ("999", ADMIN, 404, "itemNotFound"),
        ):
            with self.subTest(service_id=service_id):
                response = self.request("DELETE", f"/v2.1/os-services/{service_id}", token=token)
                self.assert_fault(response, code, name)
        # A compute hosting a server stays.
        server_id = self.create_server()
        with db_session.writer() as conn:
            conn.execute(
                sa.text("UPDATE instances SET host = 'c1' WHERE uuid = :u"), {"u": server_id}
            )
        response = self.request("DELETE", f"/v2.1/os-services/{self.compute.id}", token=ADMIN)
        self.assert_fault(response, 409, "conflictingRequest")
        self.assertEqual(self.rows("SELECT * FROM services"), before)
        self.request("DELETE", f"/v2.1/servers/{server_id}")
        with db_session.writer() as conn:
            conn.execute(sa.text("UPDATE instances SET deleted = id"))

        deleted = self.request("DELETE", f"/v2.1/os-services/{self.compute.id}", token=ADMIN)
        self.assertEqual((deleted.status_int, deleted.body), (204, b""))
        self.assertEqual([s["binary"] for s in self.services()], ["nova-scheduler"])
        self.assertEqual(
            self.request("GET", "/v2.1/os-hypervisors", token=ADMIN).json["hypervisors"], []
        )
        self.assertEqual(self.count("compute_nodes"), 0)
        again = self.request("DELETE", f"/v2.1/os-services/{self.compute.id}", token=ADMIN)
        self.assert_fault(again, 404, "itemNotFound")
        scheduler = self.request("DELETE", f"/v2.1/os-services/{self.scheduler.id}", token=ADMIN)
        self.assertEqual(scheduler.status_int, 204)
        self.assertEqual(self.services(), [])


class HypervisorsTestCase(HostsTestCase):
    def get(self, path: str, token: str = ADMIN):
        response = self.request("GET", f"/v2.1/os-hypervisors{path}", token=token)
        self.assertEqual(response.status_int, 200, response.text)
        return response.json

    def test_list_detail_show_statistics(self):
        (node,) = self.rows("SELECT id FROM compute_nodes")
        listed = self.get("")["hypervisors"]
        self.assertEqual(
            listed,
            [{"id": node.id, "hypervisor_hostname": "c1", "state": "up", "status": "enabled"}],
        )
        with db_session.writer() as conn:
            conn.execute(
                sa.text(
                    "UPDATE compute_nodes SET vcpus_used = 1, memory_mb_used = 512, "
                    "local_gb_used = 1, running_vms = 1"
                )
            )
        (detail,) = self.get("/detail")["hypervisors"]
        self.assertEqual(set(detail), HYPERVISOR_DETAIL_KEYS)
        self.assertEqual(detail, self.get(f"/{node.id}")["hypervisor"])
        self.assertEqual(
            {k: detail[k] for k in ("vcpus", "vcpus_used", "memory_mb", "memory_mb_used",
                                    "free_ram_mb", "local_gb_used", "free_disk_gb", "running_vms")},
            {"vcpus": 4, "vcpus_used": 1, "memory_mb": 8192, "memory_mb_used": 512,
             "free_ram_mb": 7680, "local_gb_used": 1, "free_disk_gb": 99, "running_vms": 1},
        )  # fmt: skip
        self.assertEqual(
            (detail["hypervisor_type"], detail["hypervisor_version"], detail["host_ip"]),
            ("QEMU", 9000000, "192.0.2.10"),
        )
        self.assertEqual(json.loads(detail["cpu_info"]), {"arch": "x86_64"})
        self.assertEqual(
            detail["service"], {"host": "c1", "id": self.compute.id, "disabled_reason": None}
        )
        statistics = self.get("/statistics")["hypervisor_statistics"]
        self.assertEqual(set(statistics), STATISTICS_KEYS)
        self.assertEqual(
            (statistics["count"], statistics["memory_mb_used"], statistics["free_ram_mb"]),
            (1, 512, 7680),
        )

    def test_workload_counts_tasks_in_progress(self):
        server_id = self.create_server()
        with db_session.writer() as conn:
            conn.execute(
                sa.text(
                    "UPDATE instances SET host = 'c1', task_state = 'spawning' WHERE uuid = :u"
                ),
                {"u": server_id},
            )
        self.assertEqual(self.get("/detail")["hypervisors"][0]["current_workload"], 1)
        self.assertEqual(self.get("/statistics")["hypervisor_statistics"]["current_workload"], 1)

    def test_refusals(self):
        for path in ("", "/detail", "/statistics", "/1"):
            with self.subTest(path=path):
                response = self.request("GET", f"/v2.1/os-hypervisors{path}", token=USER)
                self.assert_fault(response, 403, "forbidden")
        for hypervisor_id in ("999", "abc", "1.0"):
            with self.subTest(hypervisor_id=hypervisor_id):
                response = self.request("GET", f"/v2.1/os-hypervisors/{hypervisor_id}", token=ADMIN)
                self.assert_fault(response, 404, "itemNotFound")

    def test_the_compute_reports_what_the_view_shows(self):
        CONF.set_override("my_ip", "198.51.100.7")
        self.addCleanup(CONF.clear_override, "my_ip")
        manager = compute_manager.ComputeManager(host="c1", driver=fake.FakeDriver())
        manager.update_available_resource(self.compute.id)
        (detail,) = self.get("/detail")["hypervisors"]
        self.assertEqual(
            (detail["hypervisor_type"], detail["hypervisor_version"], detail["host_ip"]),
            ("fake", 1000, "198.51.100.7"),
        )
        self.assertEqual(json.loads(detail["cpu_info"])["arch"], "x86_64")
        self.assertEqual(host_api.get_hypervisor(self.context, str(detail["id"])).node.vcpus, 16)


class DescriptionTestCase(AdminTestCase):
    def test_openapi_gives_novas_statuses(self):
        paths = self.request("GET", "/v2.1/openapi.json", token=None).json["paths"]
        expected = {
            ("/v2.1/flavors", "post"): "200",
            ("/v2.1/flavors/{flavor_id}", "delete"): "202",
            ("/v2.1/flavors/{flavor_id}/os-extra_specs", "post"): "200",
            ("/v2.1/flavors/{flavor_id}/os-extra_specs/{key}", "put"): "200",
            ("/v2.1/flavors/{flavor_id}/os-extra_specs/{key}", "delete"): "200",
            ("/v2.1/os-services/{service_id}", "put"): "200",
            ("/v2.1/os-services/{service_id}", "delete"): "204",
            ("/v2.1/os-hypervisors/statistics", "get"): "200",
        }
        for (path, method), status in expected.items():
            with self.subTest(path=path, method=method):
                responses = paths[path][method]["responses"]
                self.assertEqual(min(responses), status)
                self.assertIn("403", responses)
        self.assertIn("409", paths["/v2.1/os-services/{service_id}"]["delete"]["responses"])
        self.assertNotIn(
            "content", paths["/v2.1/flavors/{flavor_id}"]["delete"]["responses"]["202"]
        )
