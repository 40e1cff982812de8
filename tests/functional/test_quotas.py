"""Quotas against a real ``nova-all``: 50 concurrent creates against a quota of 10.

``nova-all`` runs with eight API threads that may all write (``[wsgi]
write_threads = 8``), so the creates really race on SQLite's write lock;
exactly 10 must be accepted, the other 40 refused with Nova's 403, and the
usage /limits and os-quota-sets show must follow deletes (it is counted
from the instances, never stored).
"""

from __future__ import annotations

import collections
import threading
from concurrent import futures

import requests

from tests.fixtures import processes as process_fixtures
from tests.fixtures.processes import ADMIN
from tests.fixtures.processes import USER

CREATES = 50
QUOTA = 10
OVER_QUOTA = (
    f"Quota exceeded for instances: Requested 1, but already used {QUOTA} of {QUOTA} instances"
)


class QuotaRaceTestCase(process_fixtures.CloudTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.start_nova_all(self.nova_config(extra="[wsgi]\nthreads = 8\nwrite_threads = 8\n"))

    def fire(self, count: int, body: dict) -> list[requests.Response]:
        """POST ``body`` to /servers ``count`` times from as many threads, all at once."""
        barrier = threading.Barrier(count)

        def send(_index: int) -> requests.Response:
            with requests.Session() as session:
                session.trust_env = False
                barrier.wait(timeout=60)
                return session.post(
                    f"{self.api}/servers",
                    json=body,
                    headers={"X-Auth-Token": USER},
                    timeout=process_fixtures.HTTP_TIMEOUT,
                )

        with futures.ThreadPoolExecutor(max_workers=count) as pool:
            return list(pool.map(send, range(count)))

    def absolute(self) -> dict:
        return self.http("GET", f"{self.api}/limits", expect=200).json()["limits"]["absolute"]

    def test_50_concurrent_creates_against_a_quota_of_10(self):
        self.http(
            "PUT",
            f"{self.api}/os-quota-sets/demo",
            {"quota_set": {"instances": QUOTA, "cores": -1, "ram": -1}},
            token=ADMIN,
            expect=200,
        )
        network = self.quantum_network()
        body = {
            "server": {
                "name": "race",
                "imageRef": "cirros",
                "flavorRef": "1",
                "networks": [{"uuid": network}],
            }
        }
        responses = self.fire(CREATES, body)

        statuses = collections.Counter(r.status_code for r in responses)
        self.assertEqual(statuses, {202: QUOTA, 403: CREATES - QUOTA}, responses[0].text)
        refusals = {r.text for r in responses if r.status_code == 403}
        self.assertEqual(
            [r.json() for r in responses if r.status_code == 403][0],
            {"forbidden": {"code": 403, "message": OVER_QUOTA}},
        )
        self.assertEqual(len(refusals), 1)
        accepted = [r.json()["server"]["id"] for r in responses if r.status_code == 202]
        (row,) = self.rows("SELECT COUNT(*) AS n FROM instances WHERE project_id = 'demo'")
        self.assertEqual(row.n, QUOTA)  # the refused wrote no row, not even a deleted one
        # Only the accepted servers' ports exist.
        ports = self.quantum("GET", f"/networks/{network}/ports")["ports"]
        self.assertEqual(len(ports), QUOTA)
        for server_id in accepted:
            self.wait_status(server_id, "ACTIVE", timeout=120)
        self.assertEqual(self.absolute()["totalInstancesUsed"], QUOTA)
        self.assertEqual(self.absolute()["totalCoresUsed"], QUOTA)  # m1.tiny: 1 vcpu

        # Usage follows deletes: three go, three more fit, the next is refused.
        for server_id in accepted[:3]:
            self.http("DELETE", f"{self.api}/servers/{server_id}", expect=204)
        for server_id in accepted[:3]:
            self.wait_for(
                f"server {server_id} to go",
                lambda s=server_id: (
                    self.session.get(
                        f"{self.api}/servers/{s}", headers={"X-Auth-Token": USER}, timeout=30
                    ).status_code
                    == 404
                ),
                60,
            )
        detail = self.http("GET", f"{self.api}/os-quota-sets/demo/detail", expect=200).json()
        self.assertEqual(
            detail["quota_set"]["instances"], {"in_use": 7, "limit": 10, "reserved": 0}
        )
        self.assertEqual(self.absolute()["totalInstancesUsed"], 7)
        again = self.fire(5, body)
        self.assertEqual(collections.Counter(r.status_code for r in again), {202: 3, 403: 2})
        self.assertEqual(self.absolute()["totalInstancesUsed"], QUOTA)
