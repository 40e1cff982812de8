"""What every service command shares: start-up error lines, no eventlet."""

from __future__ import annotations

import subprocess
import sys
import unittest

from nova import exception
from nova.cmd import common


class ErrorLineTestCase(unittest.TestCase):
    def test_each_failure_names_what_to_do(self):
        cases = [
            (
                exception.DBConnectionError(url="sqlite:///x", reason="refused"),
                "Cannot connect to the database sqlite:///x: refused; check [database] connection",
            ),
            (
                exception.DBSchemaOutdated(version=3, head=5),
                "The database schema is at version 3 and this code needs 5: "
                "run nova-manage db sync",
            ),
            (
                exception.BrokerUnreachable(hosts="h:5672 (Connection refused)"),
                "No message broker answers at h:5672 (Connection refused); "
                "check [DEFAULT] transport_url",
            ),
            (
                exception.BrokerRefused(host="h:5672", user="nova", reason="ACCESS_REFUSED"),
                "The message broker at h:5672 refused user 'nova': ACCESS_REFUSED; check the "
                "user, password and virtual host of [DEFAULT] transport_url "
                "(rabbitmqctl list_users, list_vhosts, list_permissions)",
            ),
            (
                exception.InProcessTransport(url="fake://"),
                "transport_url is fake:// (in-process messaging), which only works inside "
                "nova-all; set [DEFAULT] transport_url = rabbit://USER:PASSWORD@HOST:5672/VHOST",
            ),
            (RuntimeError("boom"), "boom"),
        ]
        for error, message in cases:
            with self.subTest(error=type(error).__name__):
                self.assertEqual(
                    common.error_line("nova-compute", error),
                    f"ERROR: nova-compute cannot start: {message}",
                )


class NoEventletTestCase(unittest.TestCase):
    def test_services_import_no_eventlet_and_run_oslo_service_threaded(self):
        code = (
            "import sys\n"
            "import nova.cmd.all, nova.cmd.api, nova.cmd.compute, nova.cmd.scheduler\n"
            "import nova.cmd.manage, quantum.server\n"
            "from oslo_service import backend\n"
            "print(sys.modules.get('eventlet') is None, backend.get_backend_type().value)\n"
        )
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout.split(), ["True", "threading"])
        self.assertNotIn("Eventlet", result.stderr)
