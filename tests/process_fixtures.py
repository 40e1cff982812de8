"""The cloud's commands as real processes, for tests that stop, kill and restart them.

``CloudTestCase`` writes a ``nova.conf`` in a private state directory, starts
``nova-all`` (and, when a test needs to stop the network service on its own,
a separate ``quantum-server``) and talks to them over HTTP with a session
that ignores proxy variables. Every process logs to ``<state>/<name>.log``;
on failure the tails of the logs are printed and the state directory kept.
The SQLite database of the cloud is read directly (``self.rows``) to check
what the services wrote.
"""

from __future__ import annotations

import collections
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

import requests
import sqlalchemy as sa

ADMIN = "admin:demo"
USER = "alice:demo"
START_TIMEOUT = 90
HTTP_TIMEOUT = 60


def free_port() -> int:
    """Return a TCP port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def command(name: str) -> str:
    """Return the path of console script ``name`` of this virtualenv."""
    return os.path.join(os.path.dirname(sys.executable), name)


def tail(path: str, lines: int = 40) -> str:
    """Return the last ``lines`` lines of a log file."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return "".join(collections.deque(handle, maxlen=lines))
    except OSError as exc:
        return f"({exc})\n"


class Waiting:
    """``wait_for``, checking the test's processes (``check_processes``) on every poll."""

    #: Seconds between two polls.
    poll_interval = 0.3

    def wait_for(
        self, what: str, predicate, timeout: float, interval: float | None = None, state=None
    ):
        """Return ``predicate()`` once true; fail after ``timeout`` seconds.

        ``state()``, if given, describes the situation for the failure message.
        """
        interval = self.poll_interval if interval is None else interval
        deadline = time.monotonic() + timeout
        while True:
            self.check_processes()
            try:
                result = predicate()
            except requests.ConnectionError:
                result = None
            if result:
                return result
            if time.monotonic() > deadline:
                self.fail(
                    f"timed out after {timeout}s waiting for {what}"
                    + (f": {state()}" if state else "")
                )
            time.sleep(interval)


class CloudTestCase(Waiting, unittest.TestCase):
    """Processes of the cloud in ``self.state``; ``self.api`` is the compute API's URL."""

    def setUp(self) -> None:
        super().setUp()
        self.state = tempfile.mkdtemp(prefix="nova-cloud-")
        self.processes: dict[str, subprocess.Popen] = {}
        self.expected_exits: set[str] = set()
        self.addCleanup(self._remove_state)
        self.addCleanup(self._stop_all)
        self.session = requests.Session()
        self.session.trust_env = False  # 127.0.0.1: keep http_proxy & co out
        self.addCleanup(self.session.close)
        self.api_port = free_port()
        self.api = f"http://127.0.0.1:{self.api_port}/v2.1"
        self.database_path = os.path.join(self.state, "nova.sqlite")
        self.engine = sa.create_engine(f"sqlite:///{self.database_path}")
        self.addCleanup(self.engine.dispose)

    # unittest's hooks around set-up and the test method, so the cleanups
    # know whether the test failed (pytest does not report it to them).
    def _callSetUp(self):
        self._failed = True
        super()._callSetUp()
        self._failed = False

    def _callTestMethod(self, method):
        self._failed = True
        super()._callTestMethod(method)
        self._failed = False

    def passed(self) -> bool:
        """Tell whether set-up and the test passed (read in the cleanups)."""
        return not getattr(self, "_failed", True)

    # --- configuration and processes ---------------------------------------------------

    def write_config(self, name: str, text: str) -> str:
        """Write ``<state>/<name>`` and return its path."""
        path = os.path.join(self.state, name)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
        return path

    def nova_config(
        self, quantum_url: str | None = None, defaults: str = "", extra: str = ""
    ) -> str:
        """Write ``nova.conf``: the embedded Quantum unless ``quantum_url`` is given.

        ``defaults`` are more lines of ``[DEFAULT]``; ``extra`` more sections.
        """
        if quantum_url is None:
            quantum_url = f"http://127.0.0.1:{free_port()}"
            embedded = "true"
        else:
            embedded = "false"
        self.quantum_url = quantum_url
        return self.write_config(
            "nova.conf",
            "[DEFAULT]\n"
            f"state_path = {self.state}\n"
            "host = allinone\n"
            "osapi_compute_listen = 127.0.0.1\n"
            f"osapi_compute_listen_port = {self.api_port}\n"
            "ram_allocation_ratio = 64\n"
            "report_interval = 1\n"
            "disk_allocation_ratio = 1000\n"
            f"{defaults}"
            "[quantum]\n"
            f"embedded = {embedded}\n"
            f"url = {quantum_url}\n"
            "connect_retries = 0\n"
            "timeout = 30\n"
            f"{extra}",
        )

    def start(self, name: str, program: str, *args: str) -> subprocess.Popen:
        """Start console script ``program`` with ``args`` as process ``name``."""
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        env["no_proxy"] = env["NO_PROXY"] = "127.0.0.1,localhost"
        with open(self.log_path(name), "ab") as log:
            process = subprocess.Popen(
                [command(program), *args],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.state,
                env=env,
                start_new_session=True,
            )
        self.processes[name] = process
        self.expected_exits.discard(name)
        return process

    def start_nova_all(self, config: str) -> None:
        """Start ``nova-all`` and wait until its API answers."""
        self.start("nova-all", "nova-all", "--config-file", config)
        self.wait_for(
            "nova-all to answer",
            lambda: self.session.get(self.api, timeout=5).status_code == 200,
            START_TIMEOUT,
        )

    def start_quantum_server(self) -> str:
        """Start a ``quantum-server`` on its own SQLite file; return its URL."""
        if not hasattr(self, "_quantum_config"):
            port = free_port()
            self._quantum_config = self.write_config(
                "quantum.conf",
                f"[DEFAULT]\nstate_path = {self.state}\nbind_host = 127.0.0.1\n"
                f"bind_port = {port}\n",
            )
            self._quantum_base = f"http://127.0.0.1:{port}"
        self.start("quantum-server", "quantum-server", "--config-file", self._quantum_config)
        self.wait_for(
            "quantum-server to answer",
            lambda: self.session.get(self._quantum_base, timeout=5).status_code == 200,
            START_TIMEOUT,
        )
        return self._quantum_base

    def log_path(self, name: str) -> str:
        return os.path.join(self.state, f"{name}.log")

    def stop(self, name: str) -> None:
        """SIGTERM process ``name`` and wait for it (SIGKILL after 30 s)."""
        process = self.processes[name]
        self.expected_exits.add(name)
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)

    def kill(self, name: str) -> None:
        """``kill -9`` process ``name``."""
        process = self.processes[name]
        self.expected_exits.add(name)
        process.kill()
        process.wait(timeout=10)

    def _stop_all(self) -> None:
        if not self.passed():
            self.print_logs()
        for name, process in self.processes.items():
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGCONT)  # a test may have stopped it
            self.stop(name)

    def _remove_state(self) -> None:
        if self.passed():
            shutil.rmtree(self.state, ignore_errors=True)
        else:
            print(f"\nKept the state directory, with every process's log: {self.state}")

    def print_logs(self) -> None:
        for name, process in self.processes.items():
            status = "running" if process.poll() is None else f"exit {process.returncode}"
            print(f"\n---- {name} (pid {process.pid}, {status}): {self.log_path(name)} ----")
            print(tail(self.log_path(name)), end="")

    # --- waiting and HTTP ---------------------------------------------------------------

    def check_processes(self) -> None:
        """Fail if a process exited that the test did not stop."""
        for name, process in self.processes.items():
            if name not in self.expected_exits and process.poll() is not None:
                self.fail(f"{name} exited with status {process.returncode}")

    def http(self, method: str, url: str, body=None, token: str | None = USER, expect=None):
        """Send one request; check its status (``expect``, default any 2xx); return it."""
        headers = {} if token is None else {"X-Auth-Token": token}
        response = self.session.request(
            method, url, json=body, headers=headers, timeout=HTTP_TIMEOUT
        )
        if expect is None:
            self.assertLess(response.status_code, 300, f"{method} {url}: {response.text[:2000]}")
        else:
            self.assertEqual(
                response.status_code, expect, f"{method} {url}: {response.text[:2000]}"
            )
        return response

    def quantum(self, method: str, path: str, body=None, tenant: str = "demo") -> dict | None:
        """Call the network service as its admin, in ``tenant``."""
        url = f"{self.quantum_url}/v1.1/tenants/{tenant}{path}"
        response = self.http(method, url, body, token="admin:admin")
        return response.json() if response.content else None

    def quantum_network(self, tenant: str = "demo", **values) -> str:
        """Create a network of ``tenant``; return its id."""
        body = {"network": {"name": "net", **values}}
        return self.quantum("POST", "/networks", body, tenant)["network"]["id"]

    def quantum_port(self, network_id: str, tenant: str = "demo", **values) -> str:
        """Create a port on a network; return its id."""
        body = {"port": values}
        return self.quantum("POST", f"/networks/{network_id}/ports", body, tenant)["port"]["id"]

    def server(self, server_id: str, token: str = ADMIN) -> dict:
        """Return a server's view (as the admin, who sees every project's)."""
        return self.http("GET", f"{self.api}/servers/{server_id}", token=token).json()["server"]

    def create_server(self, token: str = USER, **values) -> str:
        """Create a server; return its id."""
        body = {"server": {"name": "vm", "imageRef": "cirros", "flavorRef": "1", **values}}
        return self.http("POST", f"{self.api}/servers", body, token).json()["server"]["id"]

    def wait_status(self, server_id: str, status: str, timeout: float = 60) -> dict:
        """Wait for a server to reach ``status``; return its view."""
        seen = {}

        def reached():
            seen.update(self.server(server_id))
            return seen["status"] == status

        self.wait_for(
            f"server {server_id} to be {status}",
            reached,
            timeout,
            state=lambda: f"status {seen.get('status')}, fault {seen.get('fault')}",
        )
        return dict(seen)

    # --- the database ------------------------------------------------------------------

    def rows(self, query: str, **params) -> list:
        """Run a read-only SQL query on the cloud's database."""
        with self.engine.connect() as connection:
            return list(connection.execute(sa.text(query), params))
