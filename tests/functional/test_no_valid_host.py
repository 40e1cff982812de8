"""The "No valid host was found" fault says, per filter, how many hosts it removed and why.

Through the API of a real nova-all (``GET /servers/{id}`` of the ERROR
server): its owner reads Nova's message, "No valid host was found. There are
not enough hosts available."; an admin also reads ``fault.details``, the
why, which tells the cloud's capacity. libvirt's test driver reports
3072 MB per host, so at the default ``ram_allocation_ratio`` (1.5) nine
m1.tiny (512 MB) fill it and the tenth is refused by the RamFilter with
the ratio in the words; with no compute service at all, the fault says so.
"""

from __future__ import annotations

from tests.fixtures import processes
from tests.fixtures.processes import ADMIN
from tests.fixtures.processes import USER

#: MB of one host of libvirt's test:///default, and m1.tiny's.
TEST_HOST_MB = 3072
TINY_MB = 512
NO_VALID_HOST = "No valid host was found. There are not enough hosts available."


class NoValidHostTestCase(processes.CloudTestCase):
    def start_cloud(self, defaults: str = "") -> None:
        # After nova_config()'s own ratio: the last value of an option wins.
        self.start_nova_all(self.nova_config(defaults=defaults))

    def refused(self, name: str) -> str:
        """Create a server that no host takes; return its fault's details (an admin's view)."""
        server_id = self.create_server(name=name, networks="none")
        admin = self.wait_status(server_id, "ERROR")["fault"]
        self.assertEqual((admin["code"], admin["message"]), (500, NO_VALID_HOST))
        # The owner sees Nova's message alone; the why is for admins.
        owner = self.server(server_id, token=USER)["fault"]
        self.assertEqual((owner["code"], owner["message"]), (500, NO_VALID_HOST))
        self.assertNotIn("details", owner)
        return admin["details"]

    def test_the_ram_filter_names_the_room_left_with_the_ratio(self):
        self.start_cloud("ram_allocation_ratio = 1.5\n")
        fits = int(TEST_HOST_MB * 1.5) // TINY_MB
        self.assertEqual(fits, 9)
        servers = [self.create_server(name=f"vm{i}", networks="none") for i in range(fits)]
        for server_id in servers:
            self.wait_status(server_id, "ACTIVE")
        self.assertEqual(
            self.refused("tenth"),
            "1 host: RamFilter removed 1 "
            "(needs 512 MB, 0 MB free of 3072 MB * ram_allocation_ratio 1.5)",
        )

        # Room again once one goes: the next one is placed.
        self.http("DELETE", f"{self.api}/servers/{servers[0]}", expect=204)
        self.wait_for(
            "the claim to be given back",
            lambda: self.hypervisor()["memory_mb_used"] == (fits - 1) * TINY_MB,
            30,
        )
        self.wait_status(self.create_server(name="again", networks="none"), "ACTIVE")

    def test_a_disabled_host_and_no_host_at_all(self):
        self.start_cloud()
        (compute,) = [
            service
            for service in self.http("GET", f"{self.api}/os-services", token=ADMIN).json()[
                "services"
            ]
            if service["binary"] == "nova-compute"
        ]
        body = {"host": compute["host"], "binary": "nova-compute"}
        self.http("PUT", f"{self.api}/os-services/disable", body, token=ADMIN, expect=200)
        self.assertEqual(
            self.refused("disabled"), "1 host: ComputeFilter removed 1 (disabled)"
        )

        # The compute service deleted (it hosts nothing): no host at all.
        self.http("DELETE", f"{self.api}/os-services/{compute['id']}", token=ADMIN, expect=204)
        self.assertEqual(
            self.refused("nowhere"), "0 hosts: no nova-compute service is registered"
        )

    def hypervisor(self) -> dict:
        (hypervisor,) = self.http("GET", f"{self.api}/os-hypervisors/detail", token=ADMIN).json()[
            "hypervisors"
        ]
        return hypervisor
