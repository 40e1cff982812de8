"""The multi-process cloud on real RabbitMQ and PostgreSQL: launches, and recovery.

``quantum-server`` (on its own SQLite), ``nova-api`` (gunicorn, two workers),
``nova-scheduler`` and two ``nova-compute`` (hosts ``compute1`` and
``compute2``, each with its own state directory) run as separate processes
that talk over the RabbitMQ that ``run_tests.sh`` starts (``start_rabbitmq``)
and share a fresh database on its PostgreSQL server. Timings are kept short
by options: heartbeats every second, ``service_down_time`` 4 s, the
scheduler's sweep every second.

(a) 20 servers launched through the API all go ACTIVE, on both hosts;
(b) builds in flight on both hosts (held in their network step by a frozen
    ``quantum-server``) when ``compute2`` is killed (``kill -9``): once its
    heartbeat lapses, its builds are rescheduled and go ACTIVE on compute1
    within ``service_down_time`` + 30 s, and a server of compute2 is deleted
    without it (204, gone, its port and its claim released); new servers go
    to compute1;
(c) compute2 starts again on a hypervisor (a libvirt ``test://`` node file)
    that still has the guest of the deleted server and of a server now on
    compute1, and lacks those of its ACTIVE servers: it removes the two
    guests and its ACTIVE servers become SHUTOFF;
(d) RabbitMQ is restarted (``NOVA_TEST_RABBIT_RESTART``: stopped and started
    on the same port) and 20 launches are sent while it is down: all go
    ACTIVE (durable queues keep what is cast in the reconnect window).

A service is ready once it reports into ``services`` from its report loop
and RabbitMQ shows a consumer on its queue (``scheduler``,
``compute.<host>``). An RPC method failing in a service (oslo.messaging logs
"Exception during message handling") fails the test at once.

Skipped without ``NOVA_TEST_RABBIT_URL`` or ``NOVA_TEST_POSTGRESQL_URL``
unless ``NOVA_TEST_REQUIRE_SERVICES`` names them. The processes' logs are in
the state directory, which is kept, and the logs' tails printed, on failure.
"""

from __future__ import annotations

import collections
import contextlib
import datetime
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest
from concurrent import futures

import kombu
import kombu.exceptions
import pytest
import requests
import sqlalchemy as sa
from amqp import exceptions as amqp_exceptions

from tests.fixtures.databases import Database
from tests.fixtures.databases import server_url
from tests.fixtures.databases import skip_or_fail
from tests.fixtures.processes import Waiting
from tests.fixtures.processes import command
from tests.fixtures.processes import free_port
from tests.fixtures.processes import tail

ADMIN = "admin:demo"
USER = "alice:demo"
HOSTS = ("compute1", "compute2")
REPORT_INTERVAL = 1
SERVICE_DOWN_TIME = 4
FIRST_BATCH = 20
IN_FLIGHT = 10
SECOND_BATCH = 3
AROUND_RESTART = 20
RECAST_AFTER = 60
# The rescheduling of a dead compute's builds: after its heartbeat lapses.
RESCHEDULE_TIMEOUT = SERVICE_DOWN_TIME + 30
START_TIMEOUT = 60
ACTIVE_TIMEOUT = 120
RECONNECT_TIMEOUT = 60
HTTP_TIMEOUT = 60
# oslo.messaging's log lines: a connection back after a broker outage, and
# an RPC method that raised (always a bug here).
RECONNECTED = "Reconnected to AMQP server"
DISPATCH_ERROR = "Exception during message handling"
# The scheduler's sweep sending again what was lost (nova/scheduler/manager.py).
SWEEP_RESCHEDULED = "scheduling it again"
SWEEP_RECAST = "has not started; casting it to"
NOVA_SERVICES = ("nova-api", "nova-scheduler", *HOSTS)


class MultiProcessTestCase(Waiting, unittest.TestCase):
    """Starts the cloud's processes; ``self.api`` and ``self.quantum`` are their URLs."""

    poll_interval = 0.5

    def setUp(self) -> None:
        super().setUp()
        self.rabbit_url = server_url("rabbitmq")
        if not self.rabbit_url:
            skip_or_fail(self, "rabbitmq")
        postgresql_url = server_url("postgresql")
        if not postgresql_url:
            skip_or_fail(self, "postgresql")
        self.rabbit_restart = os.environ.get("NOVA_TEST_RABBIT_RESTART", "")
        if not self.rabbit_restart:
            self.fail("NOVA_TEST_RABBIT_URL is set but NOVA_TEST_RABBIT_RESTART is not")

        self.t0 = time.monotonic()
        self.timings: list[tuple[str, float]] = []
        self.state = tempfile.mkdtemp(prefix="nova-multiprocess-")
        self.passed = False
        self.addCleanup(self._remove_state)
        database = Database("postgresql", postgresql_url)
        self.addCleanup(database.drop)
        self.engine = sa.create_engine(database.url)
        self.addCleanup(self.engine.dispose)
        self.processes: dict[str, subprocess.Popen] = {}
        self.killed: set[str] = set()
        self.addCleanup(self._stop_processes)  # before the database is dropped
        self.session = requests.Session()
        self.session.trust_env = False  # 127.0.0.1: keep http_proxy & co out
        self.addCleanup(self.session.close)

        quantum_port, api_port = free_port(), free_port()
        self.quantum = f"http://127.0.0.1:{quantum_port}/v1.1/tenants/demo"
        self.api = f"http://127.0.0.1:{api_port}/v2.1"
        self.configs = self._write_configs(database.url, quantum_port, api_port)

        with self.logs_on_failure():
            sync = subprocess.run(
                [command("nova-manage"), "--config-file", self.configs["nova"], "db", "sync"],
                capture_output=True,
                text=True,
                timeout=120,
            )
            self.assertEqual(sync.returncode, 0, f"db sync failed:\n{sync.stdout}{sync.stderr}")
            self.mark("db sync")
            self.start("quantum-server", "quantum-server", self.configs["quantum"])
            self.start("nova-api", "nova-api", self.configs["nova"])
            self.start("nova-scheduler", "nova-scheduler", self.configs["nova"])
            for host in HOSTS:
                self.start(host, "nova-compute", self.configs["nova"], self.configs[host])
            self.wait_for(
                "quantum-server to answer",
                lambda: self.http("GET", f"{self.quantum}/networks", token=ADMIN, check=False),
                START_TIMEOUT,
                interval=0.2,
            )
            self.wait_for(
                "nova-api to answer",
                lambda: self.http("GET", f"{self.api}/flavors", check=False),
                START_TIMEOUT,
                interval=0.2,
            )
            services = [("controller", "nova-scheduler"), *((h, "nova-compute") for h in HOSTS)]
            self.wait_for(
                "the scheduler and both computes to report from their report loops",
                lambda: all(self.report_count(*service) >= 2 for service in services),
                START_TIMEOUT,
                interval=0.2,
            )
            queues = ["scheduler", *(f"compute.{host}" for host in HOSTS)]
            self.wait_for(
                f"consumers on the queues {queues}",
                lambda: self.consuming(queues),
                START_TIMEOUT,
                interval=0.2,
            )
            self.mark("services up")

    # --- set-up and tear-down ----------------------------------------------------

    def _write_configs(self, database_url: str, quantum_port: int, api_port: int) -> dict:
        paths = {name: os.path.join(self.state, f"{name}.conf") for name in ("nova", "quantum")}
        quantum_state = os.path.join(self.state, "quantum")
        os.makedirs(quantum_state)
        with open(paths["quantum"], "w", encoding="utf-8") as handle:
            handle.write(
                "[DEFAULT]\n"
                f"state_path = {quantum_state}\n"
                "bind_host = 127.0.0.1\n"
                f"bind_port = {quantum_port}\n"
            )
        with open(paths["nova"], "w", encoding="utf-8") as handle:
            handle.write(
                "[DEFAULT]\n"
                f"state_path = {self.state}\n"
                "host = controller\n"
                f"transport_url = {self.rabbit_url}\n"
                f"report_interval = {REPORT_INTERVAL}\n"
                f"service_down_time = {SERVICE_DOWN_TIME}\n"
                "ram_allocation_ratio = 64\n"
                "osapi_compute_listen = 127.0.0.1\n"
                f"osapi_compute_listen_port = {api_port}\n"
                "osapi_compute_workers = 2\n"
                "[database]\n"
                f"connection = {database_url}\n"
                "[network]\n"
                "backend = quantum\n"
                "[quantum]\n"
                f"url = http://127.0.0.1:{quantum_port}\n"
                "[libvirt]\n"
                "connection_uri = test:///default\n"
                "[scheduler]\n"
                "sweep_interval = 1\n"
                # Long: a launch sent while the broker is down waits in the
                # API; the sweep must not resend it meanwhile (a resend in
                # (d) would mean a lost cast).
                f"recast_after = {RECAST_AFTER}\n"
                "[oslo_messaging_rabbit]\n"
                # Reconnect within a second or two of the broker's return.
                "rabbit_interval_max = 2\n"
                # More servers than the default quota of 10 in one project.
                "[quota]\n"
                "instances = -1\n"
                "cores = -1\n"
            )
        for host in HOSTS:
            host_state = os.path.join(self.state, host)
            os.makedirs(host_state)
            paths[host] = os.path.join(self.state, f"{host}.conf")
            with open(paths[host], "w", encoding="utf-8") as handle:
                handle.write(f"[DEFAULT]\nhost = {host}\nstate_path = {host_state}\n")
        return paths

    def log_path(self, name: str) -> str:
        return os.path.join(self.state, f"{name}.log")

    def start(self, name: str, program: str, *configs: str) -> subprocess.Popen:
        """Start ``program`` with ``configs`` as process ``name``, logging to ``name.log``."""
        args = [command(program)]
        for config in configs:
            args += ["--config-file", config]
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        env["no_proxy"] = env["NO_PROXY"] = "127.0.0.1,localhost"
        with open(self.log_path(name), "ab") as log:
            # A session of its own: what is left of it (gunicorn workers) can
            # be killed by the process group of the process started here.
            process = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.state,
                env=env,
                start_new_session=True,
            )
        self.processes[name] = process
        return process

    def kill(self, name: str) -> None:
        """``kill -9`` process ``name``."""
        process = self.processes[name]
        self.killed.add(name)
        process.kill()
        process.wait(timeout=10)

    def _stop_processes(self) -> None:
        """SIGTERM every process still running; SIGKILL what has not stopped in 15 s."""
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)

    def _remove_state(self) -> None:
        if self.passed:
            shutil.rmtree(self.state, ignore_errors=True)
        else:
            print(f"\nKept the state directory, with every process's log: {self.state}")

    @contextlib.contextmanager
    def logs_on_failure(self):
        """Print the tails of the processes' logs if the block fails."""
        try:
            yield
        except BaseException:
            self.print_logs()
            raise

    def print_logs(self) -> None:
        for name, process in self.processes.items():
            status = "running" if process.poll() is None else f"exit {process.returncode}"
            print(f"\n---- {name} (pid {process.pid}, {status}): {self.log_path(name)} ----")
            print(tail(self.log_path(name)), end="")
        print(f"\n---- timings (s since set-up): {self.timings} ----")

    # --- helpers -------------------------------------------------------------------

    def mark(self, what: str) -> None:
        self.timings.append((what, round(time.monotonic() - self.t0, 1)))

    def check_processes(self) -> None:
        """Fail if a process died unasked or a service failed an RPC method."""
        for name, process in self.processes.items():
            if name not in self.killed and process.poll() is not None:
                self.fail(f"{name} exited with status {process.returncode}")
        for name in NOVA_SERVICES:
            if self.logged_since(name, 0, DISPATCH_ERROR):
                self.fail(f"{name} failed an RPC method ({DISPATCH_ERROR!r} in its log)")

    def http(self, method: str, url: str, body=None, token: str = USER, check: bool = True):
        response = self.session.request(
            method, url, json=body, headers={"X-Auth-Token": token}, timeout=HTTP_TIMEOUT
        )
        if not check:
            return response.ok
        self.assertLess(response.status_code, 300, f"{method} {url}: {response.text[:2000]}")
        return response.json() if response.content else None

    def service(self, host: str, binary: str):
        """The ``services`` row of ``binary`` on ``host`` (or None)."""
        from nova.db import models

        query = sa.select(
            models.Service.report_count, models.Service.updated_at, models.Service.created_at
        ).where(
            models.Service.host == host,
            models.Service.binary == binary,
            models.Service.deleted == 0,
        )
        with self.engine.connect() as connection:
            return connection.execute(query).first()

    def report_count(self, host: str, binary: str) -> int:
        row = self.service(host, binary)
        return 0 if row is None else row.report_count

    def service_is_down(self, host: str, binary: str) -> bool:
        """Down for everyone: the last report is older than ``service_down_time``."""
        from nova.db import models

        row = self.service(host, binary)
        last = row.updated_at or row.created_at
        # A margin, so that the scheduler, asking later, agrees.
        return models.utcnow() - last >= datetime.timedelta(seconds=SERVICE_DOWN_TIME + 0.5)

    def consuming(self, queues: list[str]) -> bool:
        """Tell whether RabbitMQ has a consumer on each of ``queues``."""
        url = self.rabbit_url.replace("rabbit://", "amqp://", 1)
        try:
            with kombu.Connection(url, connect_timeout=2) as connection:
                for queue in queues:
                    # passive: fails (404) if the queue does not exist
                    with connection.channel() as channel:
                        _, _, consumers = channel.queue_declare(queue=queue, passive=True)
                    if consumers < 1:
                        return False
        except (OSError, amqp_exceptions.AMQPError, kombu.exceptions.KombuError):
            return False
        return True

    def launch(
        self, network: str, names: list[str], launch: bool = True, clients: int = 8
    ) -> list[str]:
        """Create (and launch) one server per name, ``clients`` at a time; return their ids."""
        body = {"imageRef": "cirros", "flavorRef": "1", "networks": [{"uuid": network}]}
        if not launch:
            body["launch"] = False

        def create(name: str) -> str:
            with requests.Session() as session:
                session.trust_env = False
                response = session.post(
                    f"{self.api}/servers",
                    json={"server": {"name": name, **body}},
                    headers={"X-Auth-Token": USER},
                    timeout=HTTP_TIMEOUT,
                )
            self.assertEqual(response.status_code, 202, f"{name}: {response.text[:2000]}")
            return response.json()["server"]["id"]

        with futures.ThreadPoolExecutor(max_workers=clients) as pool:
            ids = list(pool.map(create, names))
        self.assertEqual(len(set(ids)), len(names), ids)
        return ids

    def launch_defined(self, ids: list[str]) -> None:
        """Launch DEFINED servers (the ``launch`` action), all at once."""

        def launch(server_id: str) -> None:
            with requests.Session() as session:
                session.trust_env = False
                response = session.post(
                    f"{self.api}/servers/{server_id}/action",
                    json={"launch": None},
                    headers={"X-Auth-Token": USER},
                    timeout=HTTP_TIMEOUT,
                )
            self.assertEqual(response.status_code, 202, f"{server_id}: {response.text[:2000]}")

        with futures.ThreadPoolExecutor(max_workers=len(ids)) as pool:
            list(pool.map(launch, ids))

    def rows(self, query: str, **params) -> list:
        """Run a read-only SQL query on the cloud's database."""
        with self.engine.connect() as connection:
            return list(connection.execute(sa.text(query), params))

    def memory_used(self, host: str) -> int:
        (row,) = self.rows(
            "SELECT memory_mb_used FROM compute_nodes WHERE host = :host AND deleted = 0",
            host=host,
        )
        return row.memory_mb_used

    def servers(self) -> dict[str, dict]:
        """Every server, by id (as the admin, who sees their hosts)."""
        body = self.http("GET", f"{self.api}/servers/detail?all_tenants=1", token=ADMIN)
        self.assertNotIn("servers_links", body)
        return {server["id"]: server for server in body["servers"]}

    def wait_active(self, ids: list[str], what: str) -> dict[str, dict]:
        """Wait until the servers ``ids`` are ACTIVE; fail at once on ERROR or a lost one."""
        wanted = set(ids)
        seen: dict[str, dict] = {}

        def all_active():
            seen.clear()
            seen.update(self.servers())
            lost = wanted - seen.keys()
            self.assertFalse(lost, f"servers lost: {sorted(lost)}")
            errors = {i: seen[i].get("fault") for i in wanted if seen[i]["status"] == "ERROR"}
            self.assertFalse(errors, f"servers in ERROR: {errors}")
            return all(seen[i]["status"] == "ACTIVE" for i in wanted)

        def state():
            statuses = collections.Counter(
                (seen[i]["status"], seen[i]["OS-EXT-STS:task_state"]) for i in wanted if i in seen
            )
            return f"(status, task state) of the servers: {dict(statuses)}"

        self.wait_for(what, all_active, ACTIVE_TIMEOUT, interval=1, state=state)
        return {i: seen[i] for i in wanted}

    def log_size(self, name: str) -> int:
        return os.path.getsize(self.log_path(name))

    def logged_since(self, name: str, offset: int, text: str) -> bool:
        try:
            with open(self.log_path(name), "rb") as handle:
                handle.seek(offset)
                return text.encode() in handle.read()
        except FileNotFoundError:
            return False


def node_xml(guests: dict[str, str]) -> str:
    """A libvirt ``test://`` node with a running guest per ``{uuid: name}``."""
    domains = "".join(
        f"<domain type='test'><name>{name}</name><uuid>{uuid}</uuid>"
        "<memory>524288</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>"
        for uuid, name in guests.items()
    )
    return f"<node>{domains}</node>"


class TestMultiProcess(MultiProcessTestCase):
    @pytest.mark.timeout(1200)  # waits of up to 120 s for ACTIVE and 180 s for RabbitMQ
    def test_launch_kill_a_compute_restart_it_and_restart_rabbitmq(self):
        with self.logs_on_failure():
            network = self.http(
                "POST", f"{self.quantum}/networks", {"network": {"name": "mp"}}, token=ADMIN
            )["network"]["id"]

            # (a) 20 servers, all ACTIVE, on both hosts.
            first = self.launch(network, [f"mp-a{i}" for i in range(FIRST_BATCH)])
            self.mark(f"{FIRST_BATCH} servers created")
            servers = self.wait_active(first, f"{FIRST_BATCH} servers to go ACTIVE")
            self.mark(f"{FIRST_BATCH} servers ACTIVE")
            per_host = collections.Counter(s["OS-EXT-SRV-ATTR:host"] for s in servers.values())
            self.assertEqual(set(per_host), set(HOSTS), per_host)
            on_compute2 = sorted(
                i for i, s in servers.items() if s["OS-EXT-SRV-ATTR:host"] == "compute2"
            )

            # (b) Builds in flight on both hosts (held in their network step by
            # a frozen network service) when compute2 is killed.
            in_flight = self.launch(network, [f"mp-f{i}" for i in range(IN_FLIGHT)], launch=False)
            quantum = self.processes["quantum-server"]
            quantum.send_signal(signal.SIGSTOP)
            try:
                self.launch_defined(in_flight)
                placed: dict[str, dict] = {}

                def all_in_network_step() -> bool:
                    placed.clear()
                    placed.update({i: s for i, s in self.servers().items() if i in in_flight})
                    return all(s["OS-EXT-STS:task_state"] == "networking" for s in placed.values())

                self.wait_for(
                    "the launches to reach their network step on both hosts",
                    all_in_network_step,
                    ACTIVE_TIMEOUT,
                    state=lambda: str({i: s["OS-EXT-STS:task_state"] for i, s in placed.items()}),
                )
                self.kill("compute2")
                killed_at = time.monotonic()
            finally:
                quantum.send_signal(signal.SIGCONT)
            moved = sorted(i for i, s in placed.items() if s["OS-EXT-SRV-ATTR:host"] == "compute2")
            self.assertTrue(moved, "no build was on compute2 when it was killed")
            self.mark(f"compute2 killed with {len(moved)} builds")

            self.wait_for(
                "the heartbeat of compute2 to lapse",
                lambda: self.service_is_down("compute2", "nova-compute"),
                SERVICE_DOWN_TIME + 10,
                interval=0.2,
            )
            self.assertFalse(self.service_is_down("compute1", "nova-compute"))
            self.mark("compute2 down")
            # A server of the dead host is deleted without it.
            deleted = on_compute2[0]
            self.http("DELETE", f"{self.api}/servers/{deleted}")
            self.assertEqual(
                self.session.get(
                    f"{self.api}/servers/{deleted}",
                    headers={"X-Auth-Token": USER},
                    timeout=HTTP_TIMEOUT,
                ).status_code,
                404,
            )
            ports = self.http("GET", f"{self.quantum}/networks/{network}/ports", token=ADMIN)
            self.assertEqual(
                len(ports["ports"]), FIRST_BATCH + IN_FLIGHT - 1, "the port was not released"
            )
            self.mark("server of compute2 deleted")

            servers = self.wait_active(in_flight, "the builds of compute2 to be rescheduled")
            self.assertLess(time.monotonic() - killed_at, RESCHEDULE_TIMEOUT)
            hosts = {i: servers[i]["OS-EXT-SRV-ATTR:host"] for i in moved}
            self.assertEqual(set(hosts.values()), {"compute1"}, hosts)
            faults = self.rows(
                "SELECT DISTINCT i.uuid FROM instance_faults f "
                "JOIN instances i ON i.id = f.instance_id "
                "WHERE f.host = 'compute2' AND f.message LIKE '%compute2 is down%'"
            )
            self.assertEqual(sorted(row.uuid for row in faults), moved)
            self.mark(f"{len(moved)} builds of compute2 ACTIVE on compute1")
            # compute2 holds the claims of its (a) servers only: those of the
            # deleted server and of the moved builds are released.
            self.assertEqual(self.memory_used("compute2"), 512 * (len(on_compute2) - 1))

            second = self.launch(network, [f"mp-b{i}" for i in range(SECOND_BATCH)])
            servers = self.wait_active(second, f"{SECOND_BATCH} more servers to go ACTIVE")
            hosts = {i: s["OS-EXT-SRV-ATTR:host"] for i, s in servers.items()}
            self.assertEqual(set(hosts.values()), {"compute1"}, hosts)
            self.mark(f"{SECOND_BATCH} more servers ACTIVE on compute1")

            # (c) compute2 comes back on a hypervisor that kept the guests of
            # the deleted server and of a moved one, not those of its servers.
            leftovers = {deleted: "instance-leftover1", moved[0]: "instance-leftover2"}
            node = os.path.join(self.state, "compute2-node.xml")
            with open(node, "w", encoding="utf-8") as handle:
                handle.write(node_xml(leftovers))
            override = os.path.join(self.state, "compute2-restart.conf")
            with open(override, "w", encoding="utf-8") as handle:
                handle.write(f"[libvirt]\nconnection_uri = test://{node}\n")
            offset = self.log_size("compute2")
            self.killed.discard("compute2")
            self.start(
                "compute2", "nova-compute", self.configs["nova"], self.configs["compute2"], override
            )
            survivors = [i for i in on_compute2 if i != deleted]

            def reconciled() -> bool:
                seen = self.servers()
                return all(seen[i]["status"] == "SHUTOFF" for i in survivors)

            self.wait_for(
                "compute2's ACTIVE servers without a guest to be SHUTOFF", reconciled, START_TIMEOUT
            )
            for uuid in leftovers:
                self.wait_for(
                    f"compute2 to remove the guest of {uuid}",
                    lambda uuid=uuid: self.logged_since(
                        "compute2", offset, f"Domain {uuid} has no live instance on this host"
                    ),
                    START_TIMEOUT,
                )
            self.assertFalse(
                os.path.exists(os.path.join(self.state, "compute2", "instances", deleted))
            )
            self.assertEqual(self.servers()[moved[0]]["status"], "ACTIVE")
            self.mark("compute2 reconciled")

            # (d) RabbitMQ restarts; 20 launches are sent while it is down.
            offsets = {name: self.log_size(name) for name in ("nova-scheduler", "compute1")}
            restart = subprocess.Popen(
                [self.rabbit_restart],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            self.addCleanup(restart.wait, 180)
            self.wait_for(
                "RabbitMQ to stop",
                lambda: not self.consuming(["scheduler"]),
                RECONNECT_TIMEOUT,
                interval=0.1,
            )
            self.mark("rabbitmq down")
            around = self.launch(
                network, [f"mp-c{i}" for i in range(AROUND_RESTART)], clients=AROUND_RESTART
            )
            self.mark(f"{AROUND_RESTART} servers created around the restart")
            output, _ = restart.communicate(timeout=180)
            self.assertEqual(restart.returncode, 0, f"RabbitMQ restart failed:\n{output}")
            servers = self.wait_active(
                around, f"{AROUND_RESTART} servers launched around the restart"
            )
            self.mark(f"{AROUND_RESTART} servers ACTIVE after the restart")
            self.assertTrue(
                all(self.logged_since(n, o, RECONNECTED) for n, o in offsets.items()),
                "a service did not log its reconnection",
            )
            # The durable queues kept every cast: the sweep had nothing to send again.
            for line in (SWEEP_RESCHEDULED, SWEEP_RECAST):
                self.assertFalse(
                    self.logged_since("nova-scheduler", offsets["nova-scheduler"], line),
                    f"a cast was lost in the restart ({line!r} in the scheduler's log)",
                )

            everything = self.servers()
            expected = FIRST_BATCH - 1 + IN_FLIGHT + SECOND_BATCH + AROUND_RESTART
            self.assertEqual(len(everything), expected)
            statuses = collections.Counter(s["status"] for s in everything.values())
            self.assertEqual(
                statuses, {"ACTIVE": expected - len(survivors), "SHUTOFF": len(survivors)}
            )
        print(f"\nservers per host {dict(per_host)}; timings (s since set-up): {self.timings}")
        self.passed = True
