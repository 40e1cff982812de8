"""A failed allocation leaves no Quantum port behind (issue 14, item 5).

The adversarial run filled the disk: Nova's VIF insert failed after Quantum
had made the port, and the port stayed for good. Here Nova's own write
fails as SQLite does on a full disk; the API answers 503 and the port is
released, at once, or by the background retries when the network service
cannot delete it right then either.
"""

from __future__ import annotations

import sqlite3
import time
from unittest import mock

import sqlalchemy as sa

from nova import exception
from nova.db import virtual_interfaces as vif_db
from nova.network.quantum import api as quantum_api
from nova.network.quantum import client as quantum_client
from tests.fixtures import api as api_fixtures

DISK_FULL = sa.exc.OperationalError(
    "INSERT INTO virtual_interfaces", {}, sqlite3.OperationalError("database or disk is full")
)


class UndoTestCase(api_fixtures.APITestCase):
    def create(self, network: str):
        body = {"server": {"name": "vm", "imageRef": "c", "flavorRef": "1"}}
        body["server"]["networks"] = [{"uuid": network}]
        return self.request("POST", "/v2.1/servers", body)

    def test_disk_full_is_503_and_releases_the_port(self):
        network = self.quantum_network()
        with mock.patch.object(vif_db, "virtual_interfaces_create", side_effect=DISK_FULL):
            response = self.create(network)
        self.assertEqual(response.status_int, 503, response.text)
        self.assertEqual(response.json["serviceUnavailable"]["code"], 503)
        self.assertEqual(response.headers["Retry-After"], "5")
        self.assertEqual(self.quantum_ports(network), [])
        self.assertEqual(self.count("instances"), 0)

    def test_a_port_the_service_cannot_delete_now_is_released_later(self):
        retries = quantum_api.Retries(interval=0.05, give_up_after=30)
        self.enterContext(mock.patch.object(quantum_api, "RETRIES", retries))
        network = self.quantum_network()
        real_delete = quantum_client.QuantumClient.delete_port
        calls = []

        def delete_port(client, *args):
            calls.append(args)
            if len(calls) <= 2:  # the undo's try and the first retry
                raise exception.NetworkServiceUnavailable(url="q", reason="database is full")
            return real_delete(client, *args)

        self.enterContext(
            mock.patch.object(quantum_client.QuantumClient, "delete_port", delete_port)
        )
        with mock.patch.object(vif_db, "virtual_interfaces_create", side_effect=DISK_FULL):
            self.assertEqual(self.create(network).status_int, 503)
        deadline = time.monotonic() + 10
        while retries.pending() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(retries.pending(), [])
        self.assertEqual(len(calls), 3)
        self.assertEqual(self.quantum_ports(network), [])

    def test_retries_give_up_with_an_error(self):
        retries = quantum_api.Retries(interval=0.01, give_up_after=0.05)
        failing = mock.Mock(side_effect=exception.NetworkServiceUnavailable(url="q", reason="x"))
        with self.assertLogs(quantum_api.LOG, "ERROR") as logs:
            retries.add("port p1", failing)
            deadline = time.monotonic() + 10
            while retries.pending() and time.monotonic() < deadline:
                time.sleep(0.02)
        self.assertEqual(retries.pending(), [])
        self.assertIn("Gave up retrying port p1", logs.output[0])
