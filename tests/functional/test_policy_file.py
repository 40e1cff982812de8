"""An operator's policy file against a real nova-all.

``[oslo_policy] policy_file = policy.yaml`` is found next to nova.conf (a
relative path), overrides one of Nova's defaults and leaves the others; a
change to the file applies to the running service within seconds.
"""

from __future__ import annotations

import os
import time

from tests.fixtures import processes
from tests.fixtures.processes import ADMIN
from tests.fixtures.processes import USER


class PolicyFileTestCase(processes.CloudTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.policy_file = self.write_config(
            "policy.yaml",
            "# readers may list the compute services\n"
            '"os_compute_api:os-services:list": "rule:project_reader_or_admin"\n',
        )
        config = self.nova_config(extra="[oslo_policy]\npolicy_file = policy.yaml\n")
        self.start_nova_all(config)

    def refused(self, method: str, path: str, rule: str, token: str = USER) -> None:
        response = self.http(method, f"{self.api}{path}", token=token, expect=403)
        self.assertEqual(
            response.json(),
            {
                "forbidden": {
                    "code": 403,
                    "message": f"Policy doesn't allow {rule} to be performed.",
                }
            },
        )

    def test_override_and_its_change_at_run_time(self):
        services = self.http("GET", f"{self.api}/os-services", token=USER, expect=200).json()
        self.assertTrue(services["services"])
        self.refused("DELETE", "/os-services/1", "os_compute_api:os-services:delete")
        self.refused("GET", "/os-hypervisors", "os_compute_api:os-hypervisors:list")
        self.http("GET", f"{self.api}/servers", token=USER, expect=200)

        with open(self.policy_file, "a", encoding="utf-8") as handle:
            handle.write('"os_compute_api:servers:index": "rule:context_is_admin"\n')
        later = time.time() + 5  # a modification time oslo.policy cannot miss
        os.utime(self.policy_file, (later, later))
        self.wait_for(
            "the changed policy file to apply",
            lambda: (
                self.session.get(
                    f"{self.api}/servers", headers={"X-Auth-Token": USER}, timeout=30
                ).status_code
                == 403
            ),
            timeout=15,
        )
        self.refused("GET", "/servers", "os_compute_api:servers:index")
        self.http("GET", f"{self.api}/servers", token=ADMIN, expect=200)
        self.http("GET", f"{self.api}/os-services", token=USER, expect=200)
