"""``./run_nova.sh --cluster``: the multi-process cloud in one command, and its stop.

``./run_nova.sh --cluster --computes 2`` with a temporary ``NOVA_STATE_PATH``
(its own PostgreSQL and RabbitMQ, from tools/test-services.sh, on free
ports) must return with every process up; then the walkthrough it prints
(the README's) runs as printed, 20 launches through the API all go ACTIVE
on both hosts, a host disabled with ``nova-manage service disable`` gets
none of the next launches, ``nova-manage server reset-state`` puts a server
in ERROR and back, ``--cluster status`` names every process, alive, and the
services' heartbeats, and ``--cluster stop`` leaves none of the cluster's
processes and none of its ports listening.

Needs the PostgreSQL and RabbitMQ server programs: it runs where
``run_tests.sh`` starts its own servers (``NOVA_TEST_POSTGRESQL_URL`` and
``NOVA_TEST_RABBIT_URL`` set) and is skipped with ``-n``. On failure the
cluster's logs are printed.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import unittest
from concurrent import futures

import requests

from tests.fixtures.databases import server_url
from tests.fixtures.databases import skip_or_fail
from tests.fixtures.processes import command
from tests.fixtures.processes import free_port
from tests.fixtures.processes import tail

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ADMIN = "admin:demo"
USER = "alice:demo"
HOSTS = ("compute-1", "compute-2")
PROCESSES = ("quantum-server", "nova-api", "nova-scheduler", "nova-compute-1", "nova-compute-2")
LAUNCHES = 20
ACTIVE_TIMEOUT = 60
HTTP_TIMEOUT = 30


def _gone(pid: int) -> bool:
    """Tell whether ``pid`` has exited (a zombie waiting for its reaper counts as exited)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


class ClusterTestCase(unittest.TestCase):
    def setUp(self) -> None:
        super().setUp()
        for backend in ("postgresql", "rabbitmq"):
            if not server_url(backend):
                skip_or_fail(self, backend)
        for program in ("curl", "jq"):
            self.assertIsNotNone(shutil.which(program), f"{program} is missing")
        self.state = tempfile.mkdtemp(prefix="nova-cluster-")
        self.addCleanup(shutil.rmtree, self.state, ignore_errors=True)
        self.env = dict(
            os.environ,
            NOVA_STATE_PATH=self.state,
            NOVA_API_PORT=str(free_port()),
            NOVA_QUANTUM_PORT=str(free_port()),
        )
        self.session = requests.Session()
        self.session.trust_env = False
        self.addCleanup(self.session.close)

    def cluster(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(
            [os.path.join(REPO, "run_nova.sh"), "--cluster", *args],
            cwd=REPO,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def print_logs(self) -> None:
        logs = os.path.join(self.state, "log")
        for name in sorted(os.listdir(logs)) if os.path.isdir(logs) else []:
            print(f"---- {name} ----\n{tail(os.path.join(logs, name))}")

    def http(self, method: str, url: str, body=None, token: str = USER, expect: int = 200):
        response = self.session.request(
            method, url, json=body, headers={"X-Auth-Token": token}, timeout=HTTP_TIMEOUT
        )
        self.assertEqual(response.status_code, expect, f"{method} {url}: {response.text[:2000]}")
        return response.json() if response.content else None

    def test_cluster_up_launches_status_and_stop(self):
        t0 = time.monotonic()
        self.addCleanup(self.cluster, "stop")
        started = self.cluster("--computes", "2")
        if started.returncode != 0:
            self.print_logs()
        self.assertEqual(started.returncode, 0, started.stdout + started.stderr)
        with open(os.path.join(self.state, "cluster.env"), encoding="utf-8") as handle:
            env = dict(line.rstrip("\n").split("=", 1) for line in handle if "=" in line)
        self.assertEqual(env["NOVA_CLUSTER_HOSTS"], ",".join(HOSTS))
        pids = {
            name: int(env[f"NOVA_CLUSTER_PID_{name.upper().replace('-', '_')}"])
            for name in PROCESSES
        }
        try:
            self._check_running(started.stdout, env)
        except BaseException:
            self.print_logs()
            raise
        up = time.monotonic() - t0

        status = self.cluster("status")
        self.assertEqual(status.returncode, 0, status.stdout + status.stderr)
        for name in (*PROCESSES, "postgresql", "rabbitmq"):
            self.assertRegex(status.stdout, rf"(?m)^{name}\s+\d+\s+alive$")
        for host, binary in (
            ("controller", "nova-scheduler"),
            *((h, "nova-compute") for h in HOSTS),
        ):
            self.assertRegex(
                status.stdout, rf"(?m)^{binary}\s+{host}\s+up\s+enabled\s+last heartbeat \S+ \("
            )
        # The servers' own PIDs and ports, for after the stop.
        services = os.path.join(self.state, "services")
        for kind, path in (
            ("postgresql", "pg/postmaster.pid"),
            ("rabbitmq", "rabbitmq/rabbitmq.pid"),
            ("epmd", "rabbitmq/epmd.pid"),
        ):
            with open(os.path.join(services, path), encoding="ascii") as handle:
                pids[kind] = int(handle.readline())
        ports = [int(env[key]) for key in env if key.endswith("_PORT")]
        self.assertEqual(len(ports), 4, env)
        group_members = [
            pid
            for pid in map(int, filter(str.isdigit, os.listdir("/proc")))
            if self._pgid(pid) in {pids[name] for name in PROCESSES}
        ]
        self.assertGreater(len(group_members), len(PROCESSES))  # nova-api's workers too

        t1 = time.monotonic()
        stopped = self.cluster("stop")
        self.assertEqual(stopped.returncode, 0, stopped.stdout + stopped.stderr)
        left = {name: pid for name, pid in pids.items() if not _gone(pid)}
        left.update({f"pid {pid}": pid for pid in group_members if not _gone(pid)})
        self.assertEqual(left, {})
        self.assertEqual([port for port in ports if _listening(port)], [])
        after = self.cluster("status")
        self.assertEqual(after.returncode, 3, after.stdout)
        self.assertNotIn("alive", after.stdout)
        print(
            f"cluster up and 21 servers ACTIVE in {up:.1f} s, stopped in "
            f"{time.monotonic() - t1:.1f} s"
        )

    @staticmethod
    def _pgid(pid: int) -> int | None:
        try:
            return os.getpgid(pid)
        except ProcessLookupError:
            return None

    def _check_running(self, output: str, env: dict) -> None:
        # The walkthrough, run as printed (the README shows the same).
        walkthrough = re.search(r"(?ms)^# --- walkthrough ---$.*?^# --- end ---$", output)
        self.assertIsNotNone(walkthrough, output)
        walked = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", walkthrough.group(0)],
            capture_output=True,
            text=True,
            timeout=120,
            env=dict(os.environ, no_proxy="127.0.0.1", NO_PROXY="127.0.0.1"),
        )
        self.assertEqual(walked.returncode, 0, walked.stdout + walked.stderr)
        self.assertRegex(walked.stdout.strip(), r"^ACTIVE on compute-[12]$")
        # The README shows it too (sourcing .state-cluster/cluster.env).
        body = "\n".join(walkthrough.group(0).splitlines()[2:-1])
        with open(os.path.join(REPO, "README.md"), encoding="utf-8") as handle:
            readme = handle.read()
        self.assertIn(f". .state-cluster/cluster.env\n{body}\n```", readme)

        api, quantum = env["NOVA_CLUSTER_API"], env["NOVA_CLUSTER_QUANTUM"] + "/v1.1/tenants/demo"
        network = self.http("POST", f"{quantum}/networks", {"network": {"name": "c"}}, ADMIN, 202)
        body = {
            "imageRef": "cirros",
            "flavorRef": "1",
            "networks": [{"uuid": network["network"]["id"]}],
        }

        def create(index: int) -> str:
            created = self.http(
                "POST", f"{api}/servers", {"server": {"name": f"s{index}", **body}}, expect=202
            )
            return created["server"]["id"]

        with futures.ThreadPoolExecutor(max_workers=4) as pool:
            ids = set(pool.map(create, range(LAUNCHES)))
        self.assertEqual(len(ids), LAUNCHES)
        deadline = time.monotonic() + ACTIVE_TIMEOUT
        while True:
            servers = self.http("GET", f"{api}/servers/detail", token=ADMIN)["servers"]
            mine = [server for server in servers if server["id"] in ids]
            if all(server["status"] != "BUILD" for server in mine) and len(mine) == LAUNCHES:
                break
            self.assertLess(time.monotonic(), deadline, [s["status"] for s in mine])
            time.sleep(0.5)
        self.assertEqual({server["status"] for server in mine}, {"ACTIVE"})
        hosts = [server["OS-EXT-SRV-ATTR:host"] for server in mine]
        self.assertEqual(set(hosts), set(HOSTS), hosts)
        self._check_operator_tools(env, body, sorted(ids)[0])

    def manage(self, env: dict, *args: str) -> str:
        """Run ``nova-manage`` with the cluster's config; return its output."""
        done = subprocess.run(
            [command("nova-manage"), "--config-file", env["NOVA_CLUSTER_CONFIG"], *args],
            capture_output=True,
            text=True,
            timeout=60,
        )
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        return done.stdout

    def _check_operator_tools(self, env: dict, body: dict, server_id: str) -> None:
        """A disabled host gets no new server; reset-state puts a server in ERROR and back."""
        api = env["NOVA_CLUSTER_API"]
        self.manage(env, "service", "disable", HOSTS[0], "nova-compute", "--reason", "maintenance")
        listed = self.manage(env, "service", "list", "--binary", "nova-compute")
        self.assertRegex(listed, rf"(?m)^\d+\s+nova-compute\s+{HOSTS[0]}\s+\S+\s+disabled\s+up\b")
        created = [
            self.http("POST", f"{api}/servers", {"server": {"name": f"d{i}", **body}}, expect=202)[
                "server"
            ]["id"]
            for i in range(4)
        ]
        placed = set()
        for created_id in created:
            deadline = time.monotonic() + ACTIVE_TIMEOUT
            while (
                server := self.http("GET", f"{api}/servers/{created_id}", token=ADMIN)["server"]
            )["status"] == "BUILD":
                self.assertLess(time.monotonic(), deadline, server)
                time.sleep(0.5)
            self.assertEqual(server["status"], "ACTIVE", server.get("fault"))
            placed.add(server["OS-EXT-SRV-ATTR:host"])
        self.assertEqual(placed, {HOSTS[1]})
        self.manage(env, "service", "enable", HOSTS[0], "nova-compute")

        for state, status in (("error", "ERROR"), ("active", "ACTIVE")):
            self.manage(env, "server", "reset-state", server_id, "--state", state)
            server = self.http("GET", f"{api}/servers/{server_id}", token=ADMIN)["server"]
            self.assertEqual(server["status"], status)
