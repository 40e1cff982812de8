"""nova-all's log file: the request id down to the compute host, each migration step once.

``nova-all`` logs to a file (``log_dir``/``log_file``, oslo.log); the request
context travels over RPC from the API to the scheduler and on to compute,
and each line logged while it is handled carries its request id.
"""

from __future__ import annotations

import os

import requests

from tests.functional import test_nova_all


class RequestIdInLogTestCase(test_nova_all.NovaAllFixture):
    extra_config = "log_dir = $state_path\nlog_file = nova-file.log\n"

    def log_lines(self) -> list[str]:
        with open(os.path.join(self.state, "nova-file.log"), encoding="utf-8") as handle:
            return handle.read().splitlines()

    def test_compute_logs_with_the_api_request_id(self):
        body = {
            "server": {"name": "traced", "imageRef": "cirros", "flavorRef": "1", "networks": "none"}
        }
        response = requests.post(
            f"{self.api}/servers", json=body, headers={"X-Auth-Token": "alice:demo"}, timeout=30
        )
        self.assertEqual(response.status_code, 202, response.text)
        request_id = response.headers["X-Openstack-Request-Id"]
        server_id = response.json()["server"]["id"]
        self.wait_for(
            lambda: (
                self.get(f"{self.api}/servers/{server_id}").json()["server"]["status"] == "ACTIVE"
            ),
            "the server to go ACTIVE",
        )
        traced = [line for line in self.log_lines() if request_id in line]
        by_logger = {line.split()[4] for line in traced}
        self.assertIn("nova.scheduler.manager", by_logger, "\n".join(traced))
        self.assertIn("nova.compute.manager", by_logger, "\n".join(traced))
        self.assertTrue(
            any(f"Instance {server_id} is ACTIVE" in line for line in traced), "\n".join(traced)
        )

    def test_each_migration_step_is_logged_once(self):
        lines = self.log_lines()
        for version in range(1, 6):
            with self.subTest(version=version):
                steps = [line for line in lines if f"upgraded {version - 1} -> {version}:" in line]
                self.assertEqual(len(steps), 1, "\n".join(steps))
        self.assertFalse([line for line in lines if "Running upgrade" in line])
