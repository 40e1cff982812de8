"""The reference Quantum service embedded in a Nova process ([quantum] embedded)."""

from __future__ import annotations

import os
import shutil
import tempfile
import unittest

import nova.conf
from nova import exception
from nova.network import http
from nova.network.quantum import api as quantum_api
from nova.network.quantum import client as quantum_client
from nova.network.quantum import embedded
from tests.fixtures.processes import free_port

CONF = nova.conf.CONF


class EmbeddedQuantumTestCase(unittest.TestCase):
    def test_listens_at_url_with_database_in_state_path(self):
        state_path = tempfile.mkdtemp(prefix="nova-embedded-")
        self.addCleanup(shutil.rmtree, state_path, ignore_errors=True)
        url = f"http://127.0.0.1:{free_port()}"
        for name, value, group in (
            ("state_path", state_path, None),
            ("url", url, "quantum"),
            ("embedded", True, "quantum"),
        ):
            CONF.set_override(name, value, group=group)
            self.addCleanup(CONF.clear_override, name, group=group)

        server = embedded.start()
        self.addCleanup(server.stop)

        self.assertEqual(server.url, url)
        self.assertTrue(os.path.exists(os.path.join(state_path, "quantum.sqlite")))
        client = quantum_api.QuantumAPI().client
        self.addCleanup(client.close)
        self.assertEqual(client.list_networks("demo"), [])

    def test_nova_calls_the_service_of_its_own_process_in_process(self):
        state_path = tempfile.mkdtemp(prefix="nova-embedded-")
        self.addCleanup(shutil.rmtree, state_path, ignore_errors=True)
        url = f"http://127.0.0.1:{free_port()}"
        for name, value, group in (
            ("state_path", state_path, None),
            ("url", url, "quantum"),
            ("embedded", True, "quantum"),
            ("auth_token", "admin:demo", "quantum"),
        ):
            CONF.set_override(name, value, group=group)
            self.addCleanup(CONF.clear_override, name, group=group)
        server = embedded.start()
        self.addCleanup(server.stop)
        client = quantum_api.QuantumAPI().client
        self.addCleanup(client.close)
        self.assertIsInstance(client.transport, http.WSGITransport)

        created = client.call("POST", "/v1.1/tenants/demo/networks", {"network": {"name": "n"}})
        network_id = created["network"]["id"]
        port_id = client.create_port("demo", network_id)
        client.attach("demo", network_id, port_id, "vif-1")
        detail = client.show_port_detail("demo", network_id, port_id)
        self.assertEqual(detail["attachment"], {"id": "vif-1"})
        # Faults map to the same exceptions as over HTTP.
        with self.assertRaises(exception.PortInUse):
            client.attach("demo", network_id, port_id, "vif-2")
        with self.assertRaises(exception.NetworkNotFound):
            client.show_network("demo", "no-such-network")
        # Other clients still reach the service over HTTP.
        over_http = quantum_client.QuantumClient(url, "admin:demo")
        self.addCleanup(over_http.close)
        self.assertEqual(over_http.show_port_detail("demo", network_id, port_id), detail)

        server.stop()
        stopped = quantum_api.QuantumAPI().client
        self.addCleanup(stopped.close)
        self.assertIsNone(stopped.transport)
