"""Many clients at once against a real ``nova-all``: races end in one winner.

Each test starts ``nova-all`` (API, scheduler, compute and the embedded
Quantum service in one process, on SQLite and libvirt's ``test:///default``)
and fires requests from a thread pool of HTTP clients:

* 100 launches of one DEFINED server: one 202, 99 409s, one build, one claim;
* 50 creates naming the same Quantum port: one server gets it; the others
  are refused with a message and leave no instance, VIF or attachment;
* 200 creates across 4 projects on the legacy flat backend (two shared
  networks, so every server takes two MACs, VIF uuids and fixed IPs from
  common pools): no duplicate among the live rows, and every server ends
  ACTIVE or ERROR, none stuck in BUILD.
"""

from __future__ import annotations

import collections
import subprocess
import threading
from concurrent import futures

import pytest
import requests

from tests.fixtures import processes as process_fixtures
from tests.fixtures.processes import ADMIN
from tests.fixtures.processes import USER

CLIENTS = 32
FINAL_STATES = {"ACTIVE", "ERROR"}
# 200 builds on a 2-core machine shared with other work: generous.
SETTLE_TIMEOUT = 300


class ConcurrencyTestCase(process_fixtures.CloudTestCase):
    def fire(self, requests_: list[tuple[str, str, dict | None, str]]) -> list:
        """Send ``(method, url, body, token)`` requests from ``CLIENTS`` threads at once.

        Every client waits at a barrier before its first request, so the
        requests really overlap. Return the responses in request order.
        """
        barrier = threading.Barrier(min(CLIENTS, len(requests_)))
        local = threading.local()

        def send(request):
            method, url, body, token = request
            if not hasattr(local, "session"):
                local.session = requests.Session()
                local.session.trust_env = False
                barrier.wait(timeout=60)
            return local.session.request(
                method,
                url,
                json=body,
                headers={"X-Auth-Token": token},
                timeout=process_fixtures.HTTP_TIMEOUT,
            )

        with futures.ThreadPoolExecutor(max_workers=CLIENTS) as pool:
            return list(pool.map(send, requests_))

    def compute_usage(self) -> tuple:
        (row,) = self.rows(
            "SELECT memory_mb_used, vcpus_used, local_gb_used FROM compute_nodes "
            "WHERE host = 'allinone' AND deleted = 0"
        )
        return tuple(row)

    def test_100_concurrent_launches_of_one_server_give_one_202(self):
        self.start_nova_all(self.nova_config())
        network = self.quantum_network()
        server_id = self.create_server(networks=[{"uuid": network}], launch=False)
        before = self.compute_usage()

        url = f"{self.api}/servers/{server_id}/action"
        responses = self.fire([("POST", url, {"launch": None}, USER)] * 100)

        statuses = collections.Counter(r.status_code for r in responses)
        self.assertEqual(statuses, {202: 1, 409: 99}, [r.text for r in responses][:5])
        for response in responses:
            if response.status_code == 409:
                self.assertIn("conflictingRequest", response.json())
        server = self.wait_status(server_id, "ACTIVE", timeout=120)
        self.assertEqual(server["OS-EXT-SRV-ATTR:host"], "allinone")
        # Built once: one claim of the flavor (512 MiB, 1 vCPU, 1 GiB), one
        # VIF still attached to its port.
        memory, vcpus, disk = before
        self.assertEqual(self.compute_usage(), (memory + 512, vcpus + 1, disk + 1))
        (vif,) = self.rows("SELECT uuid, port_id FROM virtual_interfaces WHERE deleted = 0")
        (port,) = self.quantum("GET", f"/networks/{network}/ports")["ports"]
        self.assertEqual(port["id"], vif.port_id)
        attachment = self.quantum("GET", f"/networks/{network}/ports/{port['id']}/attachment")
        self.assertEqual(attachment, {"attachment": {"id": vif.uuid}})

    def test_50_concurrent_creates_naming_one_port_give_one_server(self):
        self.start_nova_all(self.nova_config())
        network = self.quantum_network()
        port = self.quantum_port(network)

        body = {
            "server": {
                "name": "racer",
                "imageRef": "cirros",
                "flavorRef": "1",
                "networks": [{"port": port}],
            }
        }
        responses = self.fire([("POST", f"{self.api}/servers", body, USER)] * 50)

        statuses = collections.Counter(r.status_code for r in responses)
        self.assertEqual(statuses[202], 1, statuses)
        self.assertEqual(statuses[202] + statuses[409] + statuses[400], 50, statuses)
        for response in responses:
            if response.status_code != 202:
                ((name, fault),) = response.json().items()
                self.assertIn(name, ("conflictingRequest", "badRequest"))
                self.assertIn(port, fault["message"])
        (winner,) = [r.json()["server"]["id"] for r in responses if r.status_code == 202]

        # The losers left nothing: one live instance, one live VIF (the
        # winner's), the port attached to that VIF, no other port made.
        instances = self.rows("SELECT uuid FROM instances WHERE deleted = 0")
        self.assertEqual([row.uuid for row in instances], [winner])
        vifs = self.rows(
            "SELECT v.uuid, i.uuid AS instance FROM virtual_interfaces v "
            "JOIN instances i ON i.id = v.instance_id WHERE v.deleted = 0"
        )
        self.assertEqual([row.instance for row in vifs], [winner])
        attachment = self.quantum("GET", f"/networks/{network}/ports/{port}/attachment")
        self.assertEqual(attachment, {"attachment": {"id": vifs[0].uuid}})
        ports = self.quantum("GET", f"/networks/{network}/ports")["ports"]
        self.assertEqual([p["id"] for p in ports], [port])
        self.wait_status(winner, "ACTIVE", timeout=120)

    @pytest.mark.timeout(900)  # SETTLE_TIMEOUT for the builds alone
    def test_200_concurrent_creates_in_4_projects_share_nothing(self):
        config = self.nova_config(
            defaults="cpu_allocation_ratio = 64\n",
            extra="[network]\nbackend = legacy\nlegacy_manager = flat\n",
        )
        self.manage(config, "db", "sync")
        networks = [
            self.manage(
                config,
                "network",
                "create",
                "--label",
                label,
                "--bridge",
                bridge,
                "--fixed_range_v4",
                cidr,
            )  # fmt: skip
            for label, bridge, cidr in (
                ("flat-a", "br100", "10.10.0.0/23"),
                ("flat-b", "br101", "10.20.0.0/23"),
            )
        ]
        self.start_nova_all(config)
        network_uuids = [row.uuid for row in self.rows("SELECT uuid FROM networks")]
        self.assertEqual(len(network_uuids), len(networks))

        projects = [f"project{i}" for i in range(4)]
        requests_ = []
        for index in range(200):
            server = {"name": f"vm{index}", "imageRef": "cirros", "flavorRef": "1"}
            if index % 2:  # half name the networks, half get every network by default
                server["networks"] = [{"uuid": uuid} for uuid in network_uuids]
            token = f"user:{projects[index % 4]}"
            requests_.append(("POST", f"{self.api}/servers", {"server": server}, token))
        responses = self.fire(requests_)

        refused = [r.text for r in responses if r.status_code != 202]
        self.assertEqual(refused, [])
        ids = [r.json()["server"]["id"] for r in responses]
        self.assertEqual(len(set(ids)), 200)

        seen: dict[str, dict] = {}

        def settled():
            body = self.http("GET", f"{self.api}/servers/detail?all_tenants=1", token=ADMIN)
            seen.clear()
            seen.update({s["id"]: s for s in body.json()["servers"]})
            return set(ids) <= seen.keys() and all(seen[i]["status"] in FINAL_STATES for i in ids)

        self.wait_for(
            "200 servers to reach ACTIVE or ERROR",
            settled,
            SETTLE_TIMEOUT,
            interval=2,
            state=lambda: str(collections.Counter(s["status"] for s in seen.values())),
        )
        self.assertEqual(
            collections.Counter(s["tenant_id"] for s in seen.values()),
            dict.fromkeys(projects, 50),
        )

        vifs = self.rows(
            "SELECT uuid, address, instance_id, network_id FROM virtual_interfaces "
            "WHERE deleted = 0"
        )
        self.assertEqual(len(vifs), 400)
        self.assert_unique([row.uuid for row in vifs], "VIF uuid")
        self.assert_unique([row.address for row in vifs], "MAC address")
        self.assertEqual(
            collections.Counter(collections.Counter(r.instance_id for r in vifs).values()),
            {2: 200},
        )
        fixed = self.rows(
            "SELECT address, instance_id, virtual_interface_id FROM fixed_ips "
            "WHERE deleted = 0 AND allocated"
        )
        self.assertEqual(len(fixed), 400)
        self.assert_unique([row.address for row in fixed], "fixed IP")
        self.assert_unique([row.virtual_interface_id for row in fixed], "VIF of a fixed IP")
        live_vif_ids = {
            row.id for row in self.rows("SELECT id FROM virtual_interfaces WHERE deleted = 0")
        }
        self.assertEqual({row.virtual_interface_id for row in fixed}, live_vif_ids)

    # --- helpers ---------------------------------------------------------------------

    def manage(self, config: str, *args: str) -> str:
        """Run ``nova-manage --config-file config args``; return its output."""
        done = subprocess.run(
            [process_fixtures.command("nova-manage"), "--config-file", config, *args],
            capture_output=True,
            text=True,
            timeout=120,
        )
        self.assertEqual(done.returncode, 0, f"nova-manage {args}: {done.stdout}{done.stderr}")
        return done.stdout

    def assert_unique(self, values: list, what: str) -> None:
        duplicates = [v for v, n in collections.Counter(values).items() if n > 1]
        self.assertEqual(duplicates, [], f"duplicate {what}s among live rows")
