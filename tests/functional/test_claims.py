"""Host usage and port ownership against a real ``nova-all`` (embedded Quantum, SQLite).

* Creates deleted at once, and launches racing deletes, from many clients:
  when every server is gone, the host's usage is exactly zero and no VIF,
  port, attachment or instance directory is left; and the resource audit,
  running every second meanwhile, never had anything to correct (the claims
  were given back by the writes that ended them, not repaired afterwards).
* The audit puts a deliberately corrupted usage row right within one
  interval and logs the correction.
* One owner per port: a port re-attached elsewhere in Quantum fails the
  build (ERROR, the fault names the port, the claim given back); a delete
  leaves someone else's attachment alone; a kept port serves the next server.

The issue's full sizes (500 cycles, 300 races) are the ``long`` variants.
"""

from __future__ import annotations

import os
import random
import threading
import time
from concurrent import futures

import pytest
import requests

from tests.fixtures import processes as process_fixtures
from tests.fixtures.processes import ADMIN
from tests.fixtures.processes import USER

CLIENTS = 8
AUDIT_INTERVAL = 1
USAGE = "memory_mb_used, vcpus_used, local_gb_used, running_vms"
CORRECTED = "Resource audit of host allinone corrected its usage"


class ClaimsTestCase(process_fixtures.CloudTestCase):
    def start_cloud(self, audit_interval: int = AUDIT_INTERVAL) -> str:
        """Start nova-all with the audit every ``audit_interval`` s; return a network of demo."""
        config = self.nova_config(defaults=f"update_resources_interval = {audit_interval}\n")
        self.start_nova_all(config)
        self.wait_for(
            "the compute node", lambda: self.rows(f"SELECT {USAGE} FROM compute_nodes"), 30
        )
        return self.quantum_network()

    def usage(self) -> tuple:
        (row,) = self.rows(
            f"SELECT {USAGE} FROM compute_nodes WHERE host = 'allinone' AND deleted = 0"
        )
        return tuple(row)

    def live_instances(self) -> int:
        return self.rows("SELECT COUNT(*) AS n FROM instances WHERE deleted = 0")[0].n

    def run_clients(self, work, items) -> list:
        """Run ``work(session, item)`` for every item from ``CLIENTS`` threads; return results."""
        local = threading.local()

        def run(item):
            if not hasattr(local, "session"):
                local.session = requests.Session()
                local.session.trust_env = False
            return work(local.session, item)

        with futures.ThreadPoolExecutor(max_workers=CLIENTS) as pool:
            return list(pool.map(run, items))

    def send(self, session, method: str, path: str, body=None):
        return session.request(
            method,
            self.api + path,
            json=body,
            headers={"X-Auth-Token": USER},
            timeout=process_fixtures.HTTP_TIMEOUT,
        )

    def assert_nothing_left(self, network: str, kept_ports: tuple[str, ...] = ()) -> None:
        """Wait for every server to go; then: usage 0, no VIF, port (but kept), attachment, dir."""
        self.wait_for(
            "every server to be deleted",
            lambda: self.live_instances() == 0,
            120,
            interval=0.5,
            state=lambda: f"{self.live_instances()} live instances",
        )
        self.assertEqual(self.usage(), (0, 0, 0, 0))
        self.assertEqual(self.rows("SELECT id FROM virtual_interfaces WHERE deleted = 0"), [])
        ports = self.quantum("GET", f"/networks/{network}/ports")["ports"]
        self.assertEqual(sorted(p["id"] for p in ports), sorted(kept_ports))
        for port in kept_ports:
            attachment = self.quantum("GET", f"/networks/{network}/ports/{port}/attachment")
            self.assertEqual(attachment, {"attachment": {}})
        directory = os.path.join(self.state, "instances")
        self.assertEqual(os.listdir(directory) if os.path.isdir(directory) else [], [])
        # The audit ran all along and found nothing to put right.
        self.assertEqual(self.nova_all.log_lines(CORRECTED), [])

    # --- create + delete, launch + delete ----------------------------------------------

    def create_then_delete(self, network: str, cycles: int) -> None:
        body = {
            "server": {
                "name": "cycle",
                "imageRef": "cirros",
                "flavorRef": "1",
                "networks": [{"uuid": network}],
            }
        }
        rng = random.Random(14)
        # Deletes at once and a little later, to meet the build at every step.
        delays = [rng.choice((0, 0, 0, 0.01, 0.05, 0.1, 0.3)) for _ in range(cycles)]

        def cycle(session, delay):
            created = self.send(session, "POST", "/servers", body)
            if created.status_code != 202:
                return f"create {created.status_code} {created.text[:200]}"
            time.sleep(delay)
            server_id = created.json()["server"]["id"]
            deleted = self.send(session, "DELETE", f"/servers/{server_id}")
            return None if deleted.status_code == 204 else f"delete {deleted.status_code}"

        failures = [f for f in self.run_clients(cycle, delays) if f]
        self.assertEqual(failures, [])

    def launch_racing_delete(self, network: str, races: int) -> None:
        def define(session, index):
            body = {
                "server": {
                    "name": f"racer{index}",
                    "imageRef": "cirros",
                    "flavorRef": "1",
                    "networks": [{"uuid": network}],
                    "launch": False,
                }
            }
            response = self.send(session, "POST", "/servers", body)
            self.assertEqual(response.status_code, 202, response.text)
            return response.json()["server"]["id"]

        servers = self.run_clients(define, range(races))
        rng = random.Random(3)
        # Each server's launch and delete side by side: two clients take them
        # at once; the delete a little later at times, to meet the launch's
        # cast, the scheduler's claim or the build.
        calls = []
        for server in servers:
            pair = [
                ("POST", f"/servers/{server}/action", {"launch": None}, 0),
                ("DELETE", f"/servers/{server}", None, rng.choice((0, 0, 0.005, 0.02, 0.05))),
            ]
            rng.shuffle(pair)
            calls += pair

        def call(session, request):
            method, path, body, delay = request
            time.sleep(delay)
            return method, self.send(session, method, path, body)

        responses = self.run_clients(call, calls)
        unexpected = [
            (method, r.status_code, r.text[:200])
            for method, r in responses
            if r.status_code not in ({202, 404, 409} if method == "POST" else {204})
        ]
        self.assertEqual(unexpected, [])

    @pytest.mark.timeout(300)
    def test_create_and_immediate_delete_cycles_leave_nothing(self):
        network = self.start_cloud()
        self.create_then_delete(network, cycles=200)
        self.assert_nothing_left(network)

    @pytest.mark.timeout(300)
    def test_launch_racing_delete_leaves_nothing(self):
        network = self.start_cloud()
        self.launch_racing_delete(network, races=100)
        self.assert_nothing_left(network)

    @pytest.mark.long
    @pytest.mark.timeout(1800)
    def test_500_cycles_and_300_races_leave_nothing(self):
        network = self.start_cloud()
        self.create_then_delete(network, cycles=500)
        self.assert_nothing_left(network)
        self.launch_racing_delete(network, races=300)
        self.assert_nothing_left(network)

    # --- the audit --------------------------------------------------------------------

    def test_audit_corrects_a_corrupted_usage_row_within_one_interval(self):
        interval = 3
        network = self.start_cloud(audit_interval=interval)
        server_id = self.create_server(networks=[{"uuid": network}])
        self.wait_status(server_id, "ACTIVE")
        right = (512, 1, 1, 1)  # m1.tiny's claim
        self.assertEqual(self.usage(), right)

        with self.engine.begin() as connection:
            connection.exec_driver_sql(
                "UPDATE compute_nodes SET memory_mb_used = 99999, vcpus_used = 77, "
                "running_vms = 5 WHERE host = 'allinone'"
            )
        corrupted = time.monotonic()
        # One interval, plus the heartbeat the audit runs in (report_interval 1 s).
        self.wait_for("the audit to correct the usage", lambda: self.usage() == right, interval + 3)
        self.assertLess(time.monotonic() - corrupted, interval + 3)
        (line,) = self.nova_all.log_lines(CORRECTED)
        self.assertIn("WARNING", line)
        self.assertIn("memory_mb_used 99999 -> 512, vcpus_used 77 -> 1, running_vms 5 -> 1", line)

        self.http("DELETE", f"{self.api}/servers/{server_id}", expect=204)
        self.wait_for("the delete", lambda: self.live_instances() == 0, 60)
        self.assertEqual(self.usage(), (0, 0, 0, 0))

    # --- one owner per port --------------------------------------------------------------

    def attachment(self, network: str, port: str) -> dict:
        return self.quantum("GET", f"/networks/{network}/ports/{port}/attachment")["attachment"]

    def reattach(self, network: str, port: str, interface: str) -> None:
        path = f"/networks/{network}/ports/{port}/attachment"
        self.quantum("DELETE", path)
        self.quantum("PUT", path, {"attachment": {"id": interface}})

    def test_port_reattached_elsewhere_fails_the_build_naming_the_port(self):
        network = self.start_cloud()
        port = self.quantum_port(network)
        server_id = self.create_server(networks=[{"port": port}], launch=False)
        self.reattach(network, port, "someone-elses-interface")

        self.http("POST", f"{self.api}/servers/{server_id}/action", {"launch": None}, expect=202)

        server = self.wait_status(server_id, "ERROR")
        self.assertEqual(server["fault"]["code"], 409)
        self.assertIn(
            f"Port {port} is attached to someone-elses-interface", server["fault"]["message"]
        )
        self.assertEqual(self.usage(), (0, 0, 0, 0))  # the claim was given back
        # Not rescheduled: another host would find the same.
        self.assertEqual(len(self.nova_all.log_lines(f"Rescheduling {server_id}")), 0)

        self.http("DELETE", f"{self.api}/servers/{server_id}", token=USER, expect=204)
        self.wait_for("the delete", lambda: self.live_instances() == 0, 60)
        self.assertEqual(self.attachment(network, port), {"id": "someone-elses-interface"})

    def test_delete_leaves_someone_elses_attachment_alone(self):
        network = self.start_cloud()
        user_port = self.quantum_port(network)
        server_id = self.create_server(networks=[{"uuid": network}, {"port": user_port}])
        self.wait_status(server_id, "ACTIVE")
        made_port = self.rows(
            "SELECT port_id FROM virtual_interfaces WHERE deleted = 0 AND preserve_on_delete = 0"
        )[0].port_id
        self.reattach(network, made_port, "intruder-1")
        self.reattach(network, user_port, "intruder-2")

        self.http("DELETE", f"{self.api}/servers/{server_id}", expect=204)
        self.wait_for("the delete", lambda: self.live_instances() == 0, 60)

        # Both ports, Nova's own included, keep the attachments others made.
        self.assertEqual(self.attachment(network, made_port), {"id": "intruder-1"})
        self.assertEqual(self.attachment(network, user_port), {"id": "intruder-2"})
        self.assertEqual(self.usage(), (0, 0, 0, 0))
        self.assertEqual(self.rows("SELECT id FROM virtual_interfaces WHERE deleted = 0"), [])
        self.assertTrue(self.nova_all.log_lines(f"Port {made_port} of instance {server_id}"))

    def test_a_kept_port_serves_the_next_server(self):
        network = self.start_cloud()
        port = self.quantum_port(network)
        first = self.create_server(networks=[{"port": port}])
        self.wait_status(first, "ACTIVE")
        self.http("DELETE", f"{self.api}/servers/{first}", expect=204)
        self.wait_for("the delete", lambda: self.live_instances() == 0, 60)
        self.assertEqual(self.attachment(network, port), {})

        second = self.create_server(networks=[{"port": port}])
        self.wait_status(second, "ACTIVE")
        (vif,) = self.rows("SELECT uuid FROM virtual_interfaces WHERE deleted = 0")
        self.assertEqual(self.attachment(network, port), {"id": vif.uuid})
        self.http("DELETE", f"{self.api}/servers/{second}", token=ADMIN, expect=204)
        self.assert_nothing_left(network, kept_ports=(port,))
