"""Nothing accepted is lost when ``nova-all`` is killed (``kill -9``) mid-launch.

``nova-all`` (embedded Quantum, SQLite, libvirt's ``test:///default``) takes
50 launches from 8 clients at once and is killed while they come in. Once
it is started again, no server it accepted is lost or left in BUILD for
more than 30 s: the scheduler's sweep (short ``[scheduler] sweep_interval``
and ``recast_after`` here) schedules again the launches whose message died
with the process, a build placed but not started is cast again, a build the
compute had started is ERROR ("restarted"), and a server that was ACTIVE is
SHUTOFF (its guest, in the test driver's memory, died with the process). The
claims on the host then equal what its servers hold.
"""

from __future__ import annotations

import collections
import threading
from concurrent import futures

import requests

from tests.fixtures import processes as process_fixtures
from tests.fixtures.processes import ADMIN
from tests.fixtures.processes import USER

LAUNCHES = 50
CLIENTS = 8
# Killed once this many launches were answered 202: the rest are in flight.
KILL_AFTER = 20
SETTLE_AFTER_RESTART = 30
FLAVOR_1_MEMORY = 512


class KilledMidLaunchTestCase(process_fixtures.CloudTestCase):
    def servers(self) -> dict[str, dict]:
        body = self.http("GET", f"{self.api}/servers/detail?all_tenants=1", token=ADMIN).json()
        return {server["id"]: server for server in body["servers"]}

    def test_no_accepted_launch_stays_in_build_after_a_kill_and_restart(self):
        config = self.nova_config(
            extra="[scheduler]\nsweep_interval = 1\nrecast_after = 2\n",
        )
        self.start_nova_all(config)
        network = self.quantum_network()
        body = {"imageRef": "cirros", "flavorRef": "1", "networks": [{"uuid": network}]}

        accepted: list[str] = []
        lock = threading.Lock()
        enough = threading.Event()
        local = threading.local()

        def create(index: int) -> None:
            if not hasattr(local, "session"):
                local.session = requests.Session()
                local.session.trust_env = False
            try:
                response = local.session.post(
                    f"{self.api}/servers",
                    json={"server": {"name": f"k{index}", **body}},
                    headers={"X-Auth-Token": USER},
                    timeout=process_fixtures.HTTP_TIMEOUT,
                )
            except requests.RequestException:
                return  # nova-all is gone (before or while answering): not accepted
            if response.status_code == 202:
                with lock:
                    accepted.append(response.json()["server"]["id"])
                    if len(accepted) >= KILL_AFTER:
                        enough.set()

        with futures.ThreadPoolExecutor(max_workers=CLIENTS) as pool:
            results = [pool.submit(create, i) for i in range(LAUNCHES)]
            self.assertTrue(enough.wait(120), f"only {len(accepted)} launches accepted")
            self.kill("nova-all")
            for result in results:
                result.result()
        with lock:
            accepted_ids = set(accepted)
        self.assertGreaterEqual(len(accepted_ids), KILL_AFTER)
        building = self.rows(
            "SELECT uuid FROM instances WHERE deleted = 0 AND vm_state = 'building'"
        )
        self.assertTrue(building, "nothing was in flight when nova-all was killed")

        self.start_nova_all(config)
        seen: dict[str, dict] = {}

        def none_building() -> bool:
            seen.clear()
            seen.update(self.servers())
            return not any(s["status"] == "BUILD" for s in seen.values())

        self.wait_for(
            f"no server in BUILD within {SETTLE_AFTER_RESTART}s of the restart",
            none_building,
            SETTLE_AFTER_RESTART,
            interval=0.5,
            state=lambda: str(
                collections.Counter(
                    (s["status"], s["OS-EXT-STS:task_state"]) for s in seen.values()
                )
            ),
        )
        self.assertLessEqual(accepted_ids, seen.keys(), "an accepted server was lost")
        statuses = collections.Counter(s["status"] for s in seen.values())
        # A create killed before its answer may leave its server DEFINED
        # (never launched): not accepted, the client may delete it.
        self.assertLessEqual(set(statuses), {"ACTIVE", "SHUTOFF", "ERROR", "DEFINED"}, statuses)
        for server_id in accepted_ids:
            self.assertNotEqual(seen[server_id]["status"], "DEFINED")
        # Launches that died with the process were scheduled again, not
        # failed by the 600 s last resort.
        self.assertGreater(statuses["ACTIVE"], 0, statuses)
        for server in seen.values():
            if server["status"] == "ERROR":
                self.assertIn("restarted", server["fault"]["message"], server["fault"])
        # The claims equal what the servers hold (ACTIVE, SHUTOFF: one flavor 1 each).
        holding = statuses["ACTIVE"] + statuses["SHUTOFF"]
        (used,) = self.rows(
            "SELECT memory_mb_used FROM compute_nodes WHERE host = 'allinone' AND deleted = 0"
        )
        self.assertEqual(used[0], holding * FLAVOR_1_MEMORY)
        print(
            f"\n{len(accepted_ids)} accepted, {len(building)} building at the kill; "
            f"after the restart: {statuses}"
        )
