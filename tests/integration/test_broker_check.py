"""A broker that refuses the credentials stops a service before it registers.

Against the real RabbitMQ of ``run_tests.sh`` (``NOVA_TEST_RABBIT_URL``):
a wrong password or an unknown virtual host is one ``ERROR`` line, exit
status 1 and no ``services`` (or ``compute_nodes``) row, where the service
used to register, heartbeat and look up for ``service_down_time`` before
oslo.messaging's traceback; the right credentials start it (and it registers).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import tempfile
import unittest
from urllib import parse

from tests.fixtures import processes
from tests.fixtures.databases import server_url
from tests.fixtures.databases import skip_or_fail

TIMEOUT = 60
ADVICE = "check the user, password and virtual host of [DEFAULT] transport_url"


class BrokerCheckTestCase(processes.Waiting, unittest.TestCase):
    def setUp(self) -> None:
        super().setUp()
        url = server_url("rabbitmq")
        if not url:
            skip_or_fail(self, "rabbitmq")
        self.broker = parse.urlsplit(url)  # rabbit://nova:nova@127.0.0.1:PORT/
        self.state = tempfile.mkdtemp(prefix="nova-broker-check-")
        self.addCleanup(shutil.rmtree, self.state, ignore_errors=True)
        self.process: subprocess.Popen | None = None

    def url(self, password: str | None = None, vhost: str = "") -> str:
        """Return the test broker's URL with another password or virtual host."""
        user = self.broker.username
        secret = self.broker.password if password is None else password
        return f"rabbit://{user}:{secret}@{self.broker.hostname}:{self.broker.port}/{vhost}"

    def config(self, transport_url: str) -> str:
        path = os.path.join(self.state, "nova.conf")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(
                f"[DEFAULT]\nstate_path = {self.state}\nhost = checked\n"
                f"transport_url = {transport_url}\nreport_interval = 1\n"
                "[libvirt]\nconnection_uri = test:///default\n"
            )
        sync = subprocess.run(
            [processes.command("nova-manage"), "--config-file", path, "db", "sync"],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
        self.assertEqual(sync.returncode, 0, sync.stderr)
        return path

    def rows(self, table: str) -> list[tuple]:
        with contextlib.closing(sqlite3.connect(os.path.join(self.state, "nova.sqlite"))) as db:
            return db.execute(f"SELECT host FROM {table}").fetchall()  # noqa: S608 - ours

    def run_command(self, binary: str, config: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [processes.command(binary), "--config-file", config],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )

    def assert_refused(self, binary: str, config: str, reason: str) -> str:
        result = self.run_command(binary, config)
        output = result.stdout + result.stderr
        self.assertEqual(result.returncode, 1, output)
        self.assertNotIn("Traceback", output)
        lines = [line for line in output.splitlines() if line.strip()]
        self.assertEqual(len(lines), 1, output)
        (line,) = lines
        address = f"{self.broker.hostname}:{self.broker.port}"
        self.assertTrue(
            line.startswith(
                f"ERROR: {binary} cannot start: The message broker at {address} "
                f"refused user '{self.broker.username}': {reason}"
            ),
            line,
        )
        self.assertIn(ADVICE, line)
        return line

    def test_wrong_password_is_one_line_and_no_service_row(self):
        config = self.config(self.url(password="wrong-secret"))
        for binary in ("nova-compute", "nova-scheduler", "nova-api"):
            with self.subTest(binary=binary):
                line = self.assert_refused(binary, config, "ACCESS_REFUSED - Login was refused")
                self.assertNotIn("wrong-secret", line)
        self.assertEqual(self.rows("services"), [])
        self.assertEqual(self.rows("compute_nodes"), [])

    def test_unknown_virtual_host(self):
        config = self.config(self.url(vhost="no-such-vhost"))
        self.assert_refused("nova-compute", config, "NOT_ALLOWED - vhost no-such-vhost not found")
        self.assertEqual(self.rows("services"), [])

    def test_the_urls_options_are_the_drivers(self):
        # ?ssl=1 as the driver reads it: TLS to the test broker's plain AMQP port.
        config = self.config(self.url() + "?ssl=1")
        result = self.run_command("nova-scheduler", config)
        self.assertEqual(result.returncode, 1, result.stderr)
        (line,) = result.stderr.strip().splitlines()
        self.assertIn("No message broker answers at", line)
        self.assertIn("SSL", line)
        self.assertEqual(self.rows("services"), [])

    def test_right_credentials_start_and_register(self):
        config = self.config(self.url())
        log = os.path.join(self.state, "nova-compute.log")
        self.process = processes.spawn(
            [processes.command("nova-compute"), "--config-file", config], log
        )
        self.addCleanup(processes.terminate, self.process)
        self.wait_for(
            "nova-compute to register",
            lambda: self.rows("services") == [("checked",)] and bool(self.rows("compute_nodes")),
            TIMEOUT,
            state=lambda: processes.tail(log),
        )
        self.assertNotIn("ERROR", processes.tail(log, 200))

    def check_processes(self) -> None:
        if self.process is not None:
            self.assertIsNone(self.process.poll(), "nova-compute exited")
