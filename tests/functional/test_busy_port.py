"""A port already in use at start: one ``ERROR:`` line naming what to change, exit 1."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import unittest

from tests.fixtures.processes import command
from tests.fixtures.processes import free_port


class BusyPortTestCase(unittest.TestCase):
    def setUp(self) -> None:
        self.state = tempfile.mkdtemp(prefix="busy-port-")
        self.addCleanup(shutil.rmtree, self.state, ignore_errors=True)
        self.busy = socket.create_server(("127.0.0.1", 0))  # listening: the port is in use
        self.addCleanup(self.busy.close)
        self.port = self.busy.getsockname()[1]
        self.spare_port = free_port()

    def config(self, name: str, text: str) -> str:
        path = os.path.join(self.state, name)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(f"[DEFAULT]\nstate_path = {self.state}\n{text}")
        return path

    def assert_one_error_line(self, args: list[str], expected: str) -> str:
        """Check ``args`` exits 1 with one ``ERROR:`` line holding ``expected``; return output."""
        result = subprocess.run(args, capture_output=True, text=True, timeout=120)
        output = result.stdout + result.stderr
        self.assertEqual(result.returncode, 1, output)
        self.assertNotIn("Traceback", output)
        errors = [line for line in output.splitlines() if "ERROR" in line]
        self.assertEqual(len(errors), 1, output)
        self.assertTrue(errors[0].startswith("ERROR: "), errors[0])
        self.assertIn(f"cannot listen on 127.0.0.1:{self.port}: address already in use", errors[0])
        self.assertIn(expected, errors[0])
        return output

    def test_quantum_server(self):
        conf = self.config("quantum.conf", f"bind_port = {self.port}\n")
        self.assert_one_error_line(
            [command("quantum-server"), "--config-file", conf],
            "(is another quantum-server running? change bind_port)",
        )

    def test_nova_api(self):
        conf = self.config("nova.conf", f"osapi_compute_listen_port = {self.port}\n")
        self.assert_one_error_line(
            [command("nova-api"), "--config-file", conf],
            "change [DEFAULT] osapi_compute_listen_port)",
        )

    def test_nova_all_api_port(self):
        conf = self.config(
            "nova.conf",
            f"osapi_compute_listen_port = {self.port}\n"
            f"[quantum]\nembedded = true\nurl = http://127.0.0.1:{self.spare_port}\n",
        )
        output = self.assert_one_error_line(
            [command("nova-all"), "--config-file", conf],
            "(is another nova-api running? change [DEFAULT] osapi_compute_listen_port)",
        )
        # It fails before starting a service that would act on another nova-all's instances.
        self.assertNotIn("nova-compute started", output)

    def test_nova_all_embedded_quantum_port(self):
        conf = self.config(
            "nova.conf",
            f"osapi_compute_listen_port = {self.spare_port}\n"
            f"[quantum]\nembedded = true\nurl = http://127.0.0.1:{self.port}\n",
        )
        self.assert_one_error_line(
            [command("nova-all"), "--config-file", conf],
            "(is another quantum-server running? change [quantum] url)",
        )
