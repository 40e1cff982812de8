"""Service commands that cannot start say why in one line, and exit 1.

A missing or older schema, an unreachable database, an unreachable message
broker, the in-process ``fake://`` transport outside nova-all: one ``ERROR:
... cannot start: ...`` line on stderr naming what to do, exit status 1, no
traceback (``--debug`` logs it), and no ``services`` row. A broker that
refuses the credentials: tests/integration/test_broker_check.py.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest

from tests.fixtures.processes import free_port

TIMEOUT = 60


def command(name: str) -> str:
    """Return the path of console script ``name`` of this virtualenv."""
    return os.path.join(os.path.dirname(sys.executable), name)


class ServiceStartTestCase(unittest.TestCase):
    def setUp(self) -> None:
        self.state = tempfile.mkdtemp(prefix="nova-start-")
        self.addCleanup(shutil.rmtree, self.state, ignore_errors=True)

    def config(self, *lines: str) -> str:
        path = os.path.join(self.state, "nova.conf")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write("\n".join(["[DEFAULT]", f"state_path = {self.state}", *lines]) + "\n")
        return path

    def run_command(self, name: str, config: str, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [command(name), "--config-file", config, *args],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )

    def assert_one_error(self, result: subprocess.CompletedProcess, binary: str, advice: str):
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertNotIn("Traceback", result.stdout + result.stderr)
        lines = result.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, result.stderr)
        self.assertTrue(lines[0].startswith(f"ERROR: {binary} cannot start: "), lines[0])
        self.assertIn(advice, lines[0])
        return lines[0]

    def sync(self, config: str, *args: str) -> None:
        result = self.run_command("nova-manage", config, "db", "sync", *args)
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_missing_schema(self):
        config = self.config()
        for binary in ("nova-compute", "nova-scheduler", "nova-api"):
            with self.subTest(binary=binary):
                result = self.run_command(binary, config)
                line = self.assert_one_error(result, binary, "run nova-manage db sync")
                self.assertIn("version 0", line)

    def test_older_schema(self):
        config = self.config()
        self.sync(config, "--version", "4")
        for binary in ("nova-scheduler", "nova-compute", "nova-api"):
            with self.subTest(binary=binary):
                result = self.run_command(binary, config)
                line = self.assert_one_error(result, binary, "run nova-manage db sync")
                self.assertIn("version 4", line)
                # nova-api fails before gunicorn starts (and forks its workers).
                self.assertNotIn("gunicorn", result.stdout + result.stderr)
        self.assertEqual(self.services(), [])

    @unittest.skipUnless(importlib.util.find_spec("psycopg"), "psycopg is not installed")
    def test_unreachable_database(self):
        url = f"postgresql+psycopg://nova:secret@127.0.0.1:{free_port()}/nova"
        config = self.config("[database]", f"connection = {url}")
        for binary in ("nova-compute", "nova-all"):
            with self.subTest(binary=binary):
                result = self.run_command(binary, config)
                line = self.assert_one_error(result, binary, "check [database] connection")
                self.assertNotIn("secret", line)

    def services(self) -> list[tuple[str, str]]:
        """Return the (host, binary) of every ``services`` row of the SQLite database."""
        with contextlib.closing(sqlite3.connect(os.path.join(self.state, "nova.sqlite"))) as db:
            return db.execute("SELECT host, binary FROM services").fetchall()

    def test_unreachable_broker(self):
        config = self.config(f"transport_url = rabbit://guest:guest@127.0.0.1:{free_port()}/")
        self.sync(config)
        for binary in ("nova-compute", "nova-scheduler", "nova-api"):
            with self.subTest(binary=binary):
                result = self.run_command(binary, config)
                line = self.assert_one_error(result, binary, "check [DEFAULT] transport_url")
                self.assertIn("No message broker answers at 127.0.0.1:", line)
        self.assertEqual(self.services(), [])

    def test_fake_transport_outside_nova_all(self):
        # Unset, transport_url is fake:// too: each service would wait alone.
        for lines in ((), ("transport_url = fake://",)):
            config = self.config(*lines)
            self.sync(config)
            for binary in ("nova-compute", "nova-scheduler", "nova-api"):
                with self.subTest(binary=binary, lines=lines):
                    result = self.run_command(binary, config)
                    line = self.assert_one_error(
                        result,
                        binary,
                        "set [DEFAULT] transport_url = rabbit://USER:PASSWORD@HOST:5672/VHOST",
                    )
                    self.assertIn(
                        "transport_url is fake:// (in-process messaging), "
                        "which only works inside nova-all",
                        line,
                    )
        self.assertEqual(self.services(), [])

    def test_debug_logs_the_traceback(self):
        config = self.config()
        result = self.run_command("nova-scheduler", config, "--debug")
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn("Traceback", result.stdout)
        self.assertIn("DBSchemaOutdated", result.stdout)
        self.assertIn("run nova-manage db sync", result.stderr)


class QuantumServerLogTestCase(unittest.TestCase):
    def test_log_file_and_each_migration_step_once(self):
        state = tempfile.mkdtemp(prefix="quantum-log-")
        self.addCleanup(shutil.rmtree, state, ignore_errors=True)
        log_file = os.path.join(state, "quantum.log")
        config = os.path.join(state, "quantum.conf")
        with open(config, "w", encoding="utf-8") as handle:
            handle.write(f"[DEFAULT]\nstate_path = {state}\nbind_port = {free_port()}\n")
        process = subprocess.Popen(
            [command("quantum-server"), "--config-file", config, "--log-file", log_file],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.addCleanup(process.wait, TIMEOUT)
        self.addCleanup(process.terminate)
        deadline = time.monotonic() + TIMEOUT
        text = ""
        while "listening on" not in text:
            self.assertIsNone(process.poll(), text)
            self.assertLess(time.monotonic(), deadline, text)
            time.sleep(0.2)
            if os.path.exists(log_file):
                with open(log_file, encoding="utf-8") as handle:
                    text = handle.read()
        self.assertEqual(text.count("Quantum database upgraded"), 1, text)
        self.assertNotIn("Running upgrade", text)
