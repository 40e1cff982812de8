"""Faults of what the cloud depends on, injected into real processes.

``nova-all`` runs with the reference Quantum service as a separate
``quantum-server`` process (so that the network service can be stopped or
frozen on its own) and its SQLite database in the state directory:

* the network service stops before a launch: the server goes to ERROR with
  a fault naming the network service, the claim is released, and nothing is
  left once the server is deleted; a create meanwhile is a 503 that writes
  nothing;
* the database is locked by another writer: the API answers 503
  ``serviceUnavailable`` (not 500) to writes, still serves reads, and
  recovers when the lock goes;
* the compute service is killed (``kill -9``) while an instance builds
  (frozen in the network step by a stopped Quantum): once it restarts
  (``init_host``) the instance is in ERROR and its claim is released.

The RabbitMQ restart is covered by ``tests/integration/test_multiprocess.py``.
"""

from __future__ import annotations

import os
import signal
import sqlite3

from tests.fixtures import processes as process_fixtures
from tests.fixtures.processes import USER

FLAVOR_1 = (512, 1, 1)  # memory MiB, vCPUs, disk GiB of flavor 1


class FaultsTestCase(process_fixtures.CloudTestCase):
    def setUp(self) -> None:
        super().setUp()
        quantum_url = self.start_quantum_server()
        self.config = self.nova_config(
            quantum_url,
            extra="[database]\nmax_write_wait = 2\n",
        )
        self.start_nova_all(self.config)

    # --- helpers ---------------------------------------------------------------------

    def usage(self) -> tuple:
        """Return (memory, vCPUs, disk) claimed on the host."""
        (row,) = self.rows(
            "SELECT memory_mb_used, vcpus_used, local_gb_used FROM compute_nodes "
            "WHERE host = 'allinone' AND deleted = 0"
        )
        return tuple(row)

    def live_vifs(self, server_id: str) -> list:
        return self.rows(
            "SELECT v.uuid, v.port_id FROM virtual_interfaces v "
            "JOIN instances i ON i.id = v.instance_id "
            "WHERE i.uuid = :uuid AND v.deleted = 0",
            uuid=server_id,
        )

    def define(self, network: str) -> str:
        return self.create_server(networks=[{"uuid": network}], launch=False)

    def launch(self, server_id: str) -> None:
        url = f"{self.api}/servers/{server_id}/action"
        self.http("POST", url, {"launch": None}, expect=202)

    def delete_and_check_nothing_left(self, server_id: str, network: str) -> None:
        """Delete a server; check its VIFs, port, attachment and domain are gone."""
        self.http("DELETE", f"{self.api}/servers/{server_id}", expect=204)
        self.wait_for(
            "the server to be deleted",
            lambda: (
                self.session.get(
                    f"{self.api}/servers/{server_id}", headers={"X-Auth-Token": USER}, timeout=10
                ).status_code
                == 404
            ),
            60,
        )
        self.assertEqual(self.live_vifs(server_id), [])
        self.assertEqual(self.quantum("GET", f"/networks/{network}/ports"), {"ports": []})
        self.assertFalse(os.path.exists(os.path.join(self.state, "instances", server_id)))

    # --- the network service --------------------------------------------------------

    def test_network_service_down_at_launch_is_an_error_that_leaves_nothing(self):
        network = self.quantum_network()
        server_id = self.define(network)
        before = self.usage()
        self.stop("quantum-server")

        # Creating a server needs the network service: 503, nothing written.
        body = {"server": {"name": "x", "imageRef": "cirros", "flavorRef": "1"}}
        refused = self.http("POST", f"{self.api}/servers", body, expect=503)
        self.assertIn("network service", refused.json()["serviceUnavailable"]["message"])
        self.assertEqual(len(self.rows("SELECT id FROM instances WHERE deleted = 0")), 1)

        self.launch(server_id)
        server = self.wait_status(server_id, "ERROR", timeout=120)
        self.assertIn("network service", server["fault"]["message"])
        self.assertIn(self.quantum_url, server["fault"]["message"])
        self.assertEqual(self.usage(), before)
        self.assertFalse(os.path.exists(os.path.join(self.state, "instances", server_id)))
        # The server still owns its VIF (a DEFINED server does too); deleting
        # it once the service is back removes the VIF, the port and its
        # attachment.
        self.assertEqual(len(self.live_vifs(server_id)), 1)
        self.start_quantum_server()
        self.delete_and_check_nothing_left(server_id, network)

    # --- the database -----------------------------------------------------------------

    def test_locked_database_is_503_and_the_api_recovers(self):
        self.create_server(networks="none", launch=False)
        lock = sqlite3.connect(self.database_path, isolation_level=None, timeout=30)
        self.addCleanup(lock.close)
        lock.execute("BEGIN EXCLUSIVE")
        try:
            body = {"server": {"name": "y", "imageRef": "cirros", "flavorRef": "1"}}
            body["server"]["networks"] = "none"
            refused = self.http("POST", f"{self.api}/servers", body, expect=503)
            fault = refused.json()["serviceUnavailable"]
            self.assertEqual(fault["code"], 503)
            self.assertNotIn("Traceback", refused.text)
            # Reads do not wait for the writer.
            listed = self.http("GET", f"{self.api}/servers", expect=200).json()["servers"]
            self.assertEqual(len(listed), 1)
        finally:
            lock.execute("ROLLBACK")
        self.http("POST", f"{self.api}/servers", body, expect=202)
        self.assertEqual(len(self.http("GET", f"{self.api}/servers").json()["servers"]), 2)

    # --- the compute service ----------------------------------------------------------

    def test_compute_killed_mid_build_fails_the_instance_on_restart(self):
        network = self.quantum_network()
        server_id = self.define(network)
        before = self.usage()

        # A frozen network service holds the build in its network step.
        quantum = self.processes["quantum-server"]
        quantum.send_signal(signal.SIGSTOP)
        try:
            self.launch(server_id)
            self.wait_for(
                "the build to reach the network step",
                lambda: self.server(server_id)["OS-EXT-STS:task_state"] == "networking",
                60,
            )
            self.assertEqual(self.server(server_id)["status"], "BUILD")
            memory, vcpus, disk = before
            self.assertEqual(self.usage(), (memory + 512, vcpus + 1, disk + 1))
            self.kill("nova-all")
        finally:
            quantum.send_signal(signal.SIGCONT)

        self.start_nova_all(self.config)
        server = self.wait_status(server_id, "ERROR", timeout=60)
        self.assertIn("restarted", server["fault"]["message"])
        self.assertEqual(self.usage(), before)
        self.delete_and_check_nothing_left(server_id, network)
