"""The admin API against a real nova-all: services, hypervisors, flavors and their extra specs.

A disabled compute gets no server ("No valid host was found"), an enabled
one does; hypervisor usage follows a launch and a delete; a flavor deleted
under a server leaves it whole; openstacksdk (what ``openstack flavor show``
and ``openstack compute service set`` use) reads and drives all of it.
"""

from __future__ import annotations

import openstack
import sqlalchemy as sa

from tests.fixtures import processes
from tests.fixtures.processes import ADMIN

HOST = "allinone"  # nova-all's host (processes.NovaAll)
USAGE = ("running_vms", "vcpus_used", "memory_mb_used", "local_gb_used")


class AdminAPITestCase(processes.CloudTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.start_nova_all(self.nova_config())

    def hypervisor(self) -> dict:
        (hypervisor,) = self.http("GET", f"{self.api}/os-hypervisors/detail", token=ADMIN).json()[
            "hypervisors"
        ]
        return hypervisor

    def usage(self) -> tuple[int, ...]:
        hypervisor = self.hypervisor()
        return tuple(hypervisor[key] for key in USAGE)

    def toggle(self, action: str) -> None:
        body = {"host": HOST, "binary": "nova-compute"}
        self.http("PUT", f"{self.api}/os-services/{action}", body, token=ADMIN, expect=200)

    def test_disabled_compute_gets_no_server_and_usage_follows_launches(self):
        services = self.http("GET", f"{self.api}/os-services", token=ADMIN).json()["services"]
        self.assertEqual(
            {(s["binary"], s["host"], s["state"], s["status"]) for s in services},
            {("nova-scheduler", HOST, "up", "enabled"), ("nova-compute", HOST, "up", "enabled")},
        )
        self.http("GET", f"{self.api}/os-services", expect=403)
        hypervisor = self.hypervisor()
        self.assertEqual(hypervisor["hypervisor_hostname"], HOST)
        self.assertEqual((hypervisor["state"], hypervisor["status"]), ("up", "enabled"))
        self.assertGreater(hypervisor["hypervisor_version"], 0)
        self.assertEqual(self.usage(), (0, 0, 0, 0))

        self.toggle("disable")
        refused = self.create_server(name="nowhere")
        self.wait_status(refused, "ERROR")
        fault = self.http("GET", f"{self.api}/servers/{refused}", token=ADMIN).json()["server"][
            "fault"
        ]
        self.assertEqual(
            (fault["message"], fault["details"]),
            (
                "No valid host was found. There are not enough hosts available.",
                "1 host: ComputeFilter removed 1 (disabled)",
            ),
        )
        self.assertEqual(self.usage(), (0, 0, 0, 0))

        self.toggle("enable")
        server_id = self.create_server(name="somewhere")
        self.wait_status(server_id, "ACTIVE")
        self.assertEqual(self.usage(), (1, 1, 512, 1))  # m1.tiny
        statistics = self.http("GET", f"{self.api}/os-hypervisors/statistics", token=ADMIN).json()
        self.assertEqual(statistics["hypervisor_statistics"]["running_vms"], 1)

        # A compute hosting a server cannot be deleted.
        compute_id = next(s["id"] for s in services if s["binary"] == "nova-compute")
        self.http("DELETE", f"{self.api}/os-services/{compute_id}", token=ADMIN, expect=409)

        self.http("DELETE", f"{self.api}/servers/{server_id}", expect=204)
        self.wait_for(
            "the server's claim to be given back", lambda: self.usage() == (0, 0, 0, 0), 30
        )

    def test_flavor_lifecycle_under_a_server(self):
        flavor = {"name": "small", "ram": 256, "vcpus": 2, "disk": 2, "id": "10"}
        self.http("POST", f"{self.api}/flavors", {"flavor": flavor}, token=ADMIN, expect=200)
        specs = {"extra_specs": {"hw:cpu_policy": "shared"}}
        self.http("POST", f"{self.api}/flavors/10/os-extra_specs", specs, token=ADMIN, expect=200)
        server_id = self.create_server(flavorRef="10")
        self.wait_status(server_id, "ACTIVE")
        self.assertEqual(self.usage(), (1, 2, 256, 2))

        self.http("DELETE", f"{self.api}/flavors/10", token=ADMIN, expect=202)
        self.http("GET", f"{self.api}/flavors/10", expect=404)
        server = self.server(server_id)
        self.assertEqual((server["status"], server["flavor"]["id"]), ("ACTIVE", "10"))
        self.http("DELETE", f"{self.api}/servers/{server_id}", expect=204)
        self.wait_for("the server to go", lambda: self.usage() == (0, 0, 0, 0), 30)

    def test_openstacksdk_reads_and_drives_the_admin_api(self):
        self.http(
            "POST",
            f"{self.api}/flavors/1/os-extra_specs",
            {"extra_specs": {"hw:cpu_policy": "shared"}},
            token=ADMIN,
            expect=200,
        )
        # What `openstack flavor show 1` does: the flavor, then its extra specs.
        user = openstack.connect(
            auth_type="none", auth={"endpoint": self.api}, compute_endpoint_override=self.api
        )
        self.addCleanup(user.close)
        flavor = user.compute.find_flavor("1", get_extra_specs=True, ignore_missing=False)
        self.assertEqual(
            (flavor.name, flavor.extra_specs), ("m1.tiny", {"hw:cpu_policy": "shared"})
        )
        self.assertEqual(
            user.compute.get_flavor_extra_specs_property("1", "hw:cpu_policy"), "shared"
        )
        with self.assertRaises(openstack.exceptions.ForbiddenException):
            list(user.compute.services())

        admin = openstack.connect(
            auth_type="admin_token",
            auth={"endpoint": self.api, "token": ADMIN},
            compute_endpoint_override=self.api,
        )
        self.addCleanup(admin.close)
        (compute,) = [s for s in admin.compute.services() if s.binary == "nova-compute"]
        self.assertEqual((compute.host, compute.state, compute.status), (HOST, "up", "enabled"))
        admin.compute.disable_service(compute, HOST, "nova-compute", disabled_reason="maintenance")
        (compute,) = admin.compute.services(binary="nova-compute")
        self.assertEqual((compute.status, compute.disabled_reason), ("disabled", "maintenance"))
        admin.compute.enable_service(compute, HOST, "nova-compute")
        (hypervisor,) = admin.compute.hypervisors(details=True)
        self.assertEqual((hypervisor.name, hypervisor.status), (HOST, "enabled"))
        self.assertEqual(admin.compute.get_hypervisor(hypervisor.id).vcpus, hypervisor.vcpus)
        admin.compute.create_flavor_extra_specs("1", {"k": "v"})
        admin.compute.delete_flavor_extra_specs_property("1", "hw:cpu_policy")
        self.assertEqual(user.compute.fetch_flavor_extra_specs("1").extra_specs, {"k": "v"})

    def test_reset_state(self):
        server_id = self.create_server(name="stuck")
        self.wait_status(server_id, "ACTIVE")
        action = f"{self.api}/servers/{server_id}/action"

        def reset(state, token=ADMIN, expect=202, url=action):
            return self.http("POST", url, {"os-resetState": {"state": state}}, token, expect)

        # Not for the server's own project: the rule is admins only.
        refused = reset("error", token=processes.USER, expect=403).json()
        self.assertIn(
            "os_compute_api:os-admin-actions:reset_state", refused["forbidden"]["message"]
        )
        # Only active or error; a body without a state is refused too.
        self.assertEqual(reset("paused", expect=400).json()["badRequest"]["code"], 400)
        self.http("POST", action, {"os-resetState": {}}, ADMIN, expect=400)
        unknown = f"{self.api}/servers/00000000-0000-4000-8000-000000000000/action"
        self.assertIn("itemNotFound", reset("error", url=unknown, expect=404).json())
        self.assertEqual(
            (self.server(server_id)["status"], self.usage()), ("ACTIVE", (1, 1, 512, 1))
        )

        # To error: no body, the task cleared, the claim given back.
        self.assertEqual(reset("error").content, b"")
        server = self.server(server_id)
        self.assertEqual((server["status"], server["OS-EXT-STS:task_state"]), ("ERROR", None))
        self.assertEqual(self.usage(), (0, 0, 0, 0))
        # Back to active: the guest is there, its room is taken again.
        reset("active")
        self.assertEqual(self.server(server_id)["status"], "ACTIVE")
        self.assertEqual(self.usage(), (1, 1, 512, 1))

        # A server stuck in a task (here: a delete whose compute never answered).
        with self.engine.begin() as connection:
            connection.execute(
                sa.text("UPDATE instances SET task_state = 'deleting' WHERE uuid = :u"),
                {"u": server_id},
            )
        self.assertEqual(self.server(server_id)["OS-EXT-STS:task_state"], "deleting")
        reset("error")
        server = self.server(server_id)
        self.assertEqual((server["status"], server["OS-EXT-STS:task_state"]), ("ERROR", None))
        self.http("DELETE", f"{self.api}/servers/{server_id}", expect=204)
        self.wait_for("the server to go", lambda: self.gone(server_id), 30)
        self.assertEqual(self.usage(), (0, 0, 0, 0))

    def gone(self, server_id: str) -> bool:
        url = f"{self.api}/servers/{server_id}"
        return self.session.get(url, headers={"X-Auth-Token": ADMIN}, timeout=30).status_code == 404

    def test_hypervisor_uptime_and_aggregates(self):
        hypervisor_id = self.hypervisor()["id"]
        uptime = self.http(
            "GET", f"{self.api}/os-hypervisors/{hypervisor_id}/uptime", token=ADMIN
        ).json()["hypervisor"]
        self.assertEqual((uptime["id"], uptime["hypervisor_hostname"]), (hypervisor_id, HOST))
        self.assertRegex(uptime["uptime"], r" up .*load average: ")  # the host's `uptime`
        self.http("GET", f"{self.api}/os-hypervisors/{hypervisor_id}/uptime", expect=403)
        self.http("GET", f"{self.api}/os-hypervisors/999/uptime", token=ADMIN, expect=404)
        self.assertEqual(
            self.http("GET", f"{self.api}/os-aggregates", token=ADMIN).json(), {"aggregates": []}
        )
        self.http("GET", f"{self.api}/os-aggregates", expect=403)
