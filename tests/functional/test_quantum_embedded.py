"""The reference Quantum service embedded in a Nova process ([quantum] embedded)."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import unittest

import nova.conf
from nova.network.quantum import api as quantum_api
from nova.network.quantum import embedded

CONF = nova.conf.CONF


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


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
