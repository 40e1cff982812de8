#!/usr/bin/env python3
"""Benchmark launching servers in ``nova-all`` end to end; prints one JSON document.

``nova-all`` (compute API, scheduler, compute on libvirt's ``test:///default``
and the embedded reference Quantum service, one process, ``fake://``
messaging, SQLite) is started as a subprocess on free ports with a temporary
state directory. Two Quantum networks are made (v1.1, token ``admin:demo``),
then ``--servers`` servers with a VIF on each network are *defined* (``POST
/v2.1/servers`` with ``"launch": false``), all of them, and then *launched*
(``POST /v2.1/servers/{id}/action {"launch": null}``), both by a pool of
``--clients`` HTTP clients (one ``requests.Session`` per thread).

When a server became ACTIVE is its ``OS-SRV-USG:launched_at`` (stamped by
compute with microseconds in the same update that makes it ACTIVE, from
the clock of this machine, where ``nova-all`` runs), read once at the end;
the rate is the servers ACTIVE over the time from the first define to the
last ``launched_at``, and a server's latency runs from its define request
to its ``launched_at``. A poller only tells when all are done: it asks
every ``--poll-interval`` seconds, from the first define on, for the
servers that became ACTIVE or ERROR lately (``GET
/v2.1/servers?status=ACTIVE&changes-since=T``, and the same for ERROR: the
summary view). ``T`` is when the previous successful poll was sent, less
``--poll-margin`` seconds. The poll runs inside the measured window, so it
is kept cheap: reading the detail of every server that changed lately
(nearly all of them, while launches run) cost ``nova-all`` about a tenth
of its CPU, and the whole list at one poll every 50 ms a fifth. (Timing
ACTIVE by when a poll first saw it, as this benchmark once did, made the
rate up to one interval late and quantised it: ``wall_seen_by_poll_s``
still reports it.) Every ``--full-poll-every`` seconds the poller reads
the whole ``/servers/detail`` as a safety net. ``http.poll`` times every
poll, ``http.poll_servers`` counts the servers per poll, and
``http.poll_missed`` counts the servers a full poll found ACTIVE or ERROR
although no incremental poll had, while their change was older than the
last incremental poll's ``T`` (a margin too small; should be 0).

Reported: servers per second from the first define to the last ACTIVE, the
per-server latency define -> ACTIVE (p50, p95), the HTTP latencies of the
requests, and every server that did not reach ACTIVE with its status, task
state, host, fault and the ``nova-all`` log lines naming it.

Beside it, in the same run, the baseline: the same database writes and
libvirt defines done directly, in this process, one server after another:
``nova.db.instances.instance_create`` and two ``virtual_interface_create`` on a
fresh SQLite database at the newest schema, then
``LibvirtDriver.build_domain`` with two bridge VIFs, Nova's RelaxNG check of
the XML and ``defineXMLFlags`` + ``create()`` on
``libvirt.open("test:///default")`` (and, beside it, with libvirt validating
on define instead, as ``[libvirt] define_validate`` does). The ratio is nova-all's
rate over the baseline's; the goal is at least ``GOAL_PER_S`` servers per
second in nova-all.

Also reported: the CPU time ``nova-all`` used in the window (``cores_busy``
near 1.0 means the GIL is the limit) and how often its threads were
switched out (``context_switches``: GIL and lock hand-overs), casts that raised (oslo.messaging logs
those without the instance's uuid: a server they leave in BUILD has no
fault), and the WARNING/ERROR lines of the log. One ``/servers/detail`` page
holds ``[api] max_limit`` (1000) servers: keep ``--servers`` below that.

``--py-spy FILE`` samples ``nova-all`` with py-spy (if installed) during the
measured window and writes its collapsed stacks (``--format raw``) to FILE
(``--py-spy-option=--gil``: only the thread holding the GIL). ``--set
GROUP.OPTION=VALUE`` adds to ``nova-all``'s configuration (e.g.
``database.max_write_wait=1`` makes lock waits fail, to see where a
failing database call leaves servers); ``--command`` runs another launcher
(a wrapper that patches Nova, to try a fix without editing it).
"""

from __future__ import annotations

import argparse
import calendar
import concurrent.futures
import datetime
import json
import math
import os
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import common  # bench/common.py, beside this script (puts the repository on sys.path)
import libvirt
import requests

import nova.conf
from nova import context as nova_context
from nova.compute import vm_states
from nova.db import flavors as flavor_db
from nova.db import instances as instance_db
from nova.db import migration
from nova.db import session as db_session
from nova.db import virtual_interfaces as vif_db
from nova.network import model
from nova.virt.libvirt import driver as libvirt_driver
from tests.fixtures import processes

CONF = nova.conf.CONF
GOAL_PER_S = 50.0
USER_TOKEN = "alice:demo"
ADMIN_TOKEN = "admin:demo"
PROJECT = "demo"
NETWORK_NAMES = ("bench-a", "bench-b")


def percentile(values: list[float], fraction: float) -> float | None:
    """Return the ``fraction`` quantile of ``values`` (linear interpolation)."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def latency_summary(values: list[float]) -> dict:
    def rounded(value):
        return None if value is None else round(value, 4)

    return {
        "count": len(values),
        "p50_s": rounded(percentile(values, 0.5)),
        "p95_s": rounded(percentile(values, 0.95)),
        "max_s": rounded(max(values) if values else None),
    }


# --- nova-all as a subprocess ----------------------------------------------------------


class NovaAll(processes.NovaAll):
    """``nova-all`` on free ports with its state in ``state``, as this benchmark runs it.

    ``settings`` are ``GROUP.OPTION=VALUE`` strings added to its configuration.
    """

    def __init__(
        self, state: str, command: list[str] | None = None, settings: list[str] = ()
    ) -> None:
        extra = ""
        for setting in settings:  # GROUP.OPTION=VALUE, appended as its own section
            name, _, value = setting.partition("=")
            group, _, option = name.rpartition(".")
            extra += f"[{group or 'DEFAULT'}]\n{option} = {value}\n"
        super().__init__(
            state,
            host="bench",
            options={
                "DEFAULT": {"transport_url": "fake://", "ram_allocation_ratio": 64},
                "database": {"connection": f"sqlite:///{state}/nova.sqlite"},
                "network": {"backend": "quantum"},
                "quantum": {"connection": f"sqlite:///{state}/quantum.sqlite"},
                "libvirt": {"connection_uri": "test:///default"},
            },
            extra=extra,
            program=command,
            cwd=os.getcwd(),  # a --command may name a script relative to here
        )
        self.quantum = f"{self.quantum_url}/v1.1/tenants/{PROJECT}"
        self.start()

    def rpc_exceptions(self, limit: int = 10) -> list[dict]:
        """Return the casts that raised (oslo.messaging logs them without the instance).

        Each: when, the project's frames of the traceback and the exception line.
        """
        found: list[dict] = []
        current: dict | None = None
        with open(self.log_path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                line = line.rstrip("\n")
                if "Exception during message handling" in line:
                    current = {"time": line[:23], "frames": [], "error": ""}
                    found.append(current)
                    continue
                if current is None:
                    continue
                if line[:4].isdigit() and line[4:5] == "-":  # the next log record
                    current = None
                elif line.startswith('  File "') and ("/nova/" in line or "/quantum/" in line):
                    path, _, rest = line.partition('", line ')
                    current["frames"].append(path.rsplit("/work/main/", 1)[-1] + ":" + rest)
                elif re.match(r"[\w.]+(Error|Exception|Timeout)\b", line):
                    current["error"] = line[:300]
        return found[:limit] + ([{"more": len(found) - limit}] if len(found) > limit else [])


def cpu_seconds(pid: int) -> tuple[float, float]:
    """Return the user and system CPU time ``pid`` has used (Linux), zeros elsewhere."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0, 0.0
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def context_switches(pid: int) -> int:
    """Return how many times the threads of ``pid`` were switched out (Linux), 0 elsewhere.

    Threads that ended are not counted; ``nova-all``'s live for the whole run.
    """
    total = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/status", encoding="ascii") as handle:
                for line in handle:
                    if line.startswith(("voluntary_ctxt_switches:", "nonvoluntary_ctxt_switches:")):
                        total += int(line.split()[1])
        except OSError:
            continue
    return total


def send(session: requests.Session, method: str, url: str, body=None, token=USER_TOKEN):
    response = session.request(method, url, json=body, headers={"X-Auth-Token": token}, timeout=60)
    if response.status_code >= 300:
        raise RuntimeError(f"{method} {url} -> {response.status_code}: {response.text[:500]}")
    return response.json() if response.content else None


class PySpy:
    """py-spy sampling a process until ``stop()`` (a no-op without py-spy)."""

    def __init__(self, pid: int, output: str | None, extra: list[str] = ()) -> None:
        self.process = None
        self.output = output
        binary = shutil.which("py-spy") or os.path.join(os.path.dirname(sys.executable), "py-spy")
        if output and os.path.exists(binary):
            self.process = subprocess.Popen(
                [binary, "record", "--pid", str(pid), "--rate", "1000", "--format", "raw"]
                + ["--output", output, "--nonblocking", *extra],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            time.sleep(1.0)  # let it attach before the measured window

    def stop(self) -> str | None:
        if self.process is None:
            return None
        self.process.send_signal(signal.SIGINT)
        try:
            _, stderr = self.process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, stderr = self.process.communicate()
        if self.process.returncode not in (0, -signal.SIGINT):
            print(stderr.decode(errors="replace")[-2000:], file=sys.stderr)
        return self.output


# --- nova-all: define, launch, wait for ACTIVE -------------------------------------------


def _epoch_of_isotime(value: str) -> float:
    """Return the POSIX time of an API timestamp such as ``2026-11-22T01:02:03Z``."""
    return calendar.timegm(time.strptime(value, "%Y-%m-%dT%H:%M:%SZ"))


def _epoch_of_usage_time(value: str) -> float:
    """Return the POSIX time of an ``OS-SRV-USG`` time such as ``2026-11-22T01:02:03.456789``."""
    when = datetime.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f")
    return when.replace(tzinfo=datetime.UTC).timestamp()


class Poller(threading.Thread):
    """Note when each server is first seen ACTIVE or ERROR, polling every ``interval`` s.

    Each poll asks for the servers that *became* ACTIVE, and those that
    became ERROR, lately: ``GET /servers?status=ACTIVE&changes-since=T``
    (and ``status=ERROR``), the summary view (ids and names). An answer
    holds only the servers that reached the end lately, so the instrument
    stays cheap: reading the detail of every server changed lately cost
    ``nova-all`` about a tenth of its CPU at 200 servers, because while
    the launches run nearly every server changes within a second.
    ``first_seen[uuid][status]`` is when the server was first seen in that
    status.

    The time asked for is taken from this machine's clock, where ``nova-all``
    also runs and stamps ``updated_at`` (UTC wall clock, as ``time.time()``):
    the server's ``Date`` header would say when the answer was made, to the
    second only. It is when the previous successful poll was *sent*, less
    ``margin`` seconds, because a change is stamped before its transaction
    commits (and possibly waits for SQLite's write lock): a change stamped
    just before a poll may only become visible after it, and the next poll
    must still reach back to it. The margin also absorbs a wall clock stepped
    back a little. Resolution needs none: SQLite keeps microseconds, and on
    MySQL (whole seconds) the API takes the time asked for down to its
    second. A full read of ``/servers/detail`` every ``full_every`` seconds
    is the safety net (and checks the margin: see ``missed``).
    """

    #: The statuses a launch ends in; the incremental polls ask for these.
    FINAL = ("ACTIVE", "ERROR")

    def __init__(
        self,
        api: str,
        interval: float,
        expected: int,
        stall: float,
        margin: float = 1.0,
        full_every: float = 5.0,
    ) -> None:
        super().__init__(name="poller", daemon=True)
        self.margin = margin
        self.full_every = full_every
        self.stall = stall
        self.launches_sent = threading.Event()
        self.stalled = False
        self.api = api
        self.interval = interval
        self.expected = expected
        self.first_seen: dict[str, dict[str, float]] = {}  # uuid -> {status: time}
        self.durations: list[float] = []  # of each poll (all its requests)
        self.sizes: list[int] = []  # servers per poll
        self.full_polls = 0
        self.missed = 0  # found by a full poll, older than the last incremental poll's window
        self.errors: list[str] = []
        self.done = threading.Event()
        self.stop_requested = threading.Event()

    def finished(self) -> int:
        return sum(1 for seen in self.first_seen.values() if "ACTIVE" in seen or "ERROR" in seen)

    def _read(self, session: requests.Session, since: float | None) -> list[tuple[dict, str]]:
        """Return (server, status) pairs: all of them (``since`` None) or the lately finished."""
        headers = {"X-Auth-Token": USER_TOKEN}
        if since is None:
            response = session.get(f"{self.api}/servers/detail", headers=headers, timeout=60)
            response.raise_for_status()
            return [(server, server["status"]) for server in response.json()["servers"]]
        when = datetime.datetime.fromtimestamp(since, datetime.UTC)
        changes_since = when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        found = []
        for status in self.FINAL:
            response = session.get(
                f"{self.api}/servers",
                params={"status": status, "changes-since": changes_since},
                headers=headers,
                timeout=60,
            )
            response.raise_for_status()
            found.extend((server, status) for server in response.json()["servers"])
        return found

    def run(self) -> None:
        session = requests.Session()
        progress, progress_at = -1, time.perf_counter()
        since: float | None = None  # changes since this POSIX time; None: read everything
        asked: float | None = None  # the ``since`` of the last incremental poll
        last_full = 0.0
        while not self.stop_requested.is_set():
            started = time.perf_counter()
            sent = time.time()
            full = since is None or started - last_full >= self.full_every
            try:
                found = self._read(session, None if full else since)
                received = time.perf_counter()
                self.durations.append(received - started)
                self.sizes.append(len(found))
                for server, status in found:
                    seen = self.first_seen.setdefault(server["id"], {})
                    if status in seen:
                        continue
                    seen[status] = received
                    # Finished before the window of the last incremental poll,
                    # which then did not see it: missed.
                    if (
                        full
                        and status in self.FINAL
                        and asked is not None
                        and _epoch_of_isotime(server["updated"]) < math.floor(asked)
                    ):
                        self.missed += 1
                if full:
                    self.full_polls += 1
                    last_full = started
                else:
                    asked = since
                since = sent - self.margin
            except (requests.RequestException, ValueError, KeyError) as exc:
                self.errors.append(repr(exc)[:200])
            finished = self.finished()
            if finished >= self.expected:
                self.done.set()
                return
            if finished != progress:
                progress, progress_at = finished, time.perf_counter()
            elif self.launches_sent.is_set() and time.perf_counter() - progress_at > self.stall:
                self.stalled = True  # nothing reached ACTIVE or ERROR for a while: stuck
                self.done.set()
                return
            pause = self.interval - (time.perf_counter() - started)
            if pause > 0:
                self.stop_requested.wait(pause)


def bench_nova_all(
    servers: int,
    clients: int,
    poll_interval: float,
    timeout: float,
    state: str,
    py_spy: str | None,
    py_spy_options: list[str],
    command: list[str] | None = None,
    settings: list[str] = (),
    stall: float = 60.0,
    poll_margin: float = 1.0,
    full_poll_every: float = 5.0,
) -> dict:
    nova_all = NovaAll(state, command, settings)
    try:
        nova_all.wait_ready()
        admin = requests.Session()
        networks = [
            send(
                admin,
                "POST",
                f"{nova_all.quantum}/networks",
                {"network": {"name": name}},
                ADMIN_TOKEN,
            )["network"]["id"]
            for name in NETWORK_NAMES
        ]

        local = threading.local()

        def session() -> requests.Session:
            if not hasattr(local, "session"):
                local.session = requests.Session()
            return local.session

        define_started: dict[int, float] = {}  # POSIX time, compared with launched_at
        define_latency: list[float] = []
        launch_latency: list[float] = []
        ids: dict[int, str] = {}
        failures: list[dict] = []

        def define(index: int) -> None:
            body = {
                "server": {
                    "name": f"bench-{index:04d}",
                    "imageRef": "cirros",
                    "flavorRef": "1",
                    "networks": [{"uuid": net} for net in networks],
                    "launch": False,
                }
            }
            define_started[index] = time.time()
            start = time.perf_counter()
            try:
                created = send(session(), "POST", f"{nova_all.api}/servers", body)
            except (RuntimeError, requests.RequestException) as exc:
                failures.append({"phase": "define", "index": index, "error": str(exc)[:500]})
                return
            define_latency.append(time.perf_counter() - start)
            ids[index] = created["server"]["id"]

        def launch(index: int) -> bool:
            start = time.perf_counter()
            url = f"{nova_all.api}/servers/{ids[index]}/action"
            try:
                send(session(), "POST", url, {"launch": None})
            except (RuntimeError, requests.RequestException) as exc:
                failures.append(
                    {"phase": "launch", "id": ids[index], "index": index, "error": str(exc)[:500]}
                )
                return False
            launch_latency.append(time.perf_counter() - start)
            return True

        pid = nova_all.process.pid
        profiler = PySpy(pid, py_spy, py_spy_options)
        poller = Poller(nova_all.api, poll_interval, servers, stall, poll_margin, full_poll_every)
        with concurrent.futures.ThreadPoolExecutor(clients) as pool:
            cpu_before = cpu_seconds(pid)
            switches_before = context_switches(pid)
            first_define = time.perf_counter()
            first_define_epoch = time.time()
            poller.start()
            list(pool.map(define, range(servers)))
            defined = time.perf_counter()
            poller.expected = len(ids)
            launched_ok = sum(pool.map(launch, sorted(ids)))
            poller.expected = launched_ok
            launched = time.perf_counter()
            launched_epoch = time.time()
            poller.launches_sent.set()
        poller.done.wait(timeout)
        poller.stop_requested.set()
        poller.join(timeout=60)
        user_after, system_after = cpu_seconds(pid)
        switches = context_switches(pid) - switches_before
        user, system = user_after - cpu_before[0], system_after - cpu_before[1]
        cpu_used = user + system
        polled_until = time.perf_counter()
        profile = profiler.stop()

        by_id = {server_id: index for index, server_id in ids.items()}
        seen_active = [seen["ACTIVE"] for seen in poller.first_seen.values() if "ACTIVE" in seen]

        # The final state of every server, as an admin sees it (host, fault details).
        final = send(admin, "GET", f"{nova_all.api}/servers/detail", token=ADMIN_TOKEN)
        statuses: dict[str, int] = {}
        leftovers = []
        active_at: dict[int, float] = {}  # index -> POSIX time it became ACTIVE (launched_at)
        for server in final["servers"]:
            statuses[server["status"]] = statuses.get(server["status"], 0) + 1
            if server["status"] == "ACTIVE" and server["id"] in by_id:
                launched_at = _epoch_of_usage_time(server["OS-SRV-USG:launched_at"])
                active_at[by_id[server["id"]]] = launched_at
            if server["status"] != "ACTIVE":
                leftovers.append(
                    {
                        "id": server["id"],
                        "name": server["name"],
                        "status": server["status"],
                        "task_state": server.get("OS-EXT-STS:task_state"),
                        "host": server.get("OS-EXT-SRV-ATTR:host"),
                        "fault": server.get("fault"),
                        "log": nova_all.log_lines(server["id"]),
                    }
                )
        last_active = max(active_at.values()) if active_at else None
        wall = (last_active - first_define_epoch) if last_active else None
        latencies = [active_at[i] - define_started[i] for i in active_at]
        log_problems = [
            line
            for line in nova_all.log_lines("", limit=10**9)
            if " ERROR " in line or " WARNING " in line or "Traceback" in line
        ]
        result = {
            "servers": servers,
            "vifs_per_server": len(networks),
            "clients": clients,
            "poll_interval_s": poll_interval,
            "poll_margin_s": poll_margin,
            "full_poll_every_s": full_poll_every,
            "servers_per_s": round(len(active_at) / wall, 2) if wall else 0.0,
            "wall_s": round(wall, 3) if wall else None,
            # When the poller saw the last ACTIVE: up to one poll interval late.
            "wall_seen_by_poll_s": (
                round(max(seen_active) - first_define, 3) if seen_active else None
            ),
            "define_phase_s": round(defined - first_define, 3),
            "launch_phase_s": round(launched - defined, 3),
            "launched_to_last_active_s": (
                round(last_active - launched_epoch, 3) if last_active else None
            ),
            "define_to_active": latency_summary(latencies),
            "nova_all_cpu": {
                "cpu_s": round(cpu_used, 2),
                "user_s": round(user, 2),
                "system_s": round(system, 2),
                "window_s": round(polled_until - first_define, 3),
                "cores_busy": round(cpu_used / (polled_until - first_define), 2),
                "context_switches": switches,
            },
            "http": {
                "define": latency_summary(define_latency),
                "launch": latency_summary(launch_latency),
                "poll": latency_summary(poller.durations),
                "poll_servers": {
                    "mean": round(statistics.fmean(poller.sizes), 1) if poller.sizes else None,
                    "max": max(poller.sizes, default=None),
                    "full_polls": poller.full_polls,
                },
                "poll_missed": poller.missed,
                "poll_errors": poller.errors[:5],
            },
            "active": len(active_at),
            "stalled": poller.stalled,
            "request_failures": {"count": len(failures), "first": failures[:10]},
            "final_statuses": statuses,
            "leftovers": leftovers,
            "rpc_exceptions": nova_all.rpc_exceptions(),
            "log_warnings_and_errors": {
                "count": len(log_problems),
                "first": log_problems[:20],
            },
        }
        if profile:
            result["py_spy_raw"] = profile
        return result
    finally:
        nova_all.close()


# --- the baseline: the same writes and defines, directly ----------------------------------


def baseline_run(servers: int, workdir: str, run: str, libvirt_validates: bool) -> dict:
    """Write ``servers`` instances with 2 VIFs and define+start their domains; time it.

    The XML is checked as Nova checks it: against libvirt's RelaxNG schema
    in-process, or (``libvirt_validates``) by libvirt on define instead.
    """
    define_flags = libvirt.VIR_DOMAIN_DEFINE_VALIDATE if libvirt_validates else 0
    url = f"sqlite:///{os.path.join(workdir, f'baseline-{run}.sqlite')}"
    migration.db_sync(url=url)
    CONF.set_override("connection", url, group="database")
    db_session.dispose_engine()
    context = nova_context.RequestContext(user_id="alice", project_id=PROJECT)
    flavor = flavor_db.flavor_get_by_flavor_id(context, "1")
    networks = [str(uuid.uuid4()) for _ in NETWORK_NAMES]
    driver = libvirt_driver.LibvirtDriver(uri="test:///default")
    connection = libvirt.open("test:///default")
    domains = []
    spent = {"db_s": 0.0, "build_domain_s": 0.0, "define_create_s": 0.0}
    try:
        start = time.perf_counter()
        for index in range(servers):
            t0 = time.perf_counter()
            instance = instance_db.instance_create(
                context,
                {
                    "project_id": context.project_id,
                    "user_id": context.user_id,
                    "display_name": f"bench-{index:04d}",
                    "flavor_id": flavor.id,
                    "memory_mb": flavor.memory_mb,
                    "vcpus": flavor.vcpus,
                    "root_gb": flavor.root_gb,
                    "image_ref": "cirros",
                    "vm_state": vm_states.DEFINED,
                    "launch_index": 0,
                    "metadata": {},
                },
            )
            vifs = [
                vif_db.virtual_interface_create(
                    context,
                    {
                        "instance_id": instance.id,
                        "network_id": None,
                        "port_id": str(uuid.uuid4()),
                        "network_uuid": network,
                        "preserve_on_delete": False,
                    },
                )
                for network in networks
            ]
            t1 = time.perf_counter()
            network_info = [
                model.VIF(
                    id=vif.uuid,
                    address=vif.address,
                    network=model.Network(id=vif.network_uuid, label=name),
                    port_id=vif.port_id,
                    configuration={"vif_type": "bridge", "bridge": ("brq" + vif.network_uuid)[:15]},
                )
                for vif, name in zip(vifs, NETWORK_NAMES, strict=True)
            ]
            xml = driver.build_domain(instance, network_info)
            if not libvirt_validates:
                libvirt_driver.validate_domain(xml)
            t2 = time.perf_counter()
            domain = connection.defineXMLFlags(xml, define_flags)
            domain.create()
            domains.append(domain)
            t3 = time.perf_counter()
            spent["db_s"] += t1 - t0
            spent["build_domain_s"] += t2 - t1
            spent["define_create_s"] += t3 - t2
        elapsed = time.perf_counter() - start
    finally:
        for domain in domains:  # untimed: the next run reuses the names
            try:
                domain.destroy()
                domain.undefine()
            except libvirt.libvirtError:
                pass
        connection.close()
        db_session.dispose_engine()
    return {
        "seconds": elapsed,
        "per_s": servers / elapsed,
        **{key: round(value, 4) for key, value in spent.items()},
    }


def bench_baseline(servers: int, repeat: int, workdir: str) -> dict:
    """Time the baseline ``repeat`` times as Nova defines by default, and with libvirt validating.

    Nova checks the XML against libvirt's RelaxNG schema (compiled once) and
    defines it without flags; with ``[libvirt] define_validate`` libvirt
    checks it on define (``VIR_DOMAIN_DEFINE_VALIDATE``, parsing the schema
    each time). The second figure shows what that costs.
    """
    kinds = {"as_nova": False, "libvirt_validate": True}
    runs: dict[str, list[dict]] = {kind: [] for kind in kinds}
    for run in range(repeat):
        for kind, libvirt_validates in kinds.items():
            runs[kind].append(baseline_run(servers, workdir, f"{kind}-{run}", libvirt_validates))

    def summary(kind_runs: list[dict]) -> dict:
        per_s = statistics.median(r["per_s"] for r in kind_runs)
        median_run = min(kind_runs, key=lambda r: abs(r["per_s"] - per_s))
        return {
            "per_s": round(per_s, 1),
            "split_of_median_run_s": {
                key: median_run[key] for key in ("db_s", "build_domain_s", "define_create_s")
            },
            "runs_per_s": [round(r["per_s"], 1) for r in kind_runs],
        }

    return {
        "servers": servers,
        "vifs_per_server": len(NETWORK_NAMES),
        **summary(runs["as_nova"]),
        "define_flags": "none, XML checked with lxml RelaxNG first (as Nova by default)",
        "with_libvirt_validate": summary(runs["libvirt_validate"]),
    }


def machine() -> dict:
    return common.machine(libvirt=libvirt.getVersion())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, default=200)
    parser.add_argument("--clients", type=int, default=8, help="HTTP client threads")
    parser.add_argument("--poll-interval", type=float, default=0.2)
    parser.add_argument(
        "--poll-margin",
        type=float,
        default=1.0,
        help="each poll asks for the changes since the previous poll was sent, less this (s)",
    )
    parser.add_argument(
        "--full-poll-every",
        type=float,
        default=5.0,
        help="read the whole server list this often (s), as a safety net",
    )
    parser.add_argument("--timeout", type=float, default=600, help="wait for ACTIVE at most")
    parser.add_argument(
        "--stall",
        type=float,
        default=60,
        help="after the launches, stop waiting when no server reached ACTIVE/ERROR for this long",
    )
    parser.add_argument("--baseline-repeat", type=int, default=3)
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run nova-all this many times (fresh state each); report the median run",
    )
    parser.add_argument("--keep-state", action="store_true", help="keep nova-all's state dir")
    parser.add_argument("--py-spy", metavar="FILE", help="py-spy raw profile of nova-all")
    parser.add_argument(
        "--py-spy-option",
        action="append",
        default=[],
        help="extra py-spy record option, e.g. --gil, --idle, --threads (repeatable)",
    )
    parser.add_argument(
        "--command",
        help="run this instead of the venv's nova-all (split like a shell; "
        "--config-file FILE is appended), e.g. a wrapper that patches Nova to try a fix",
    )
    parser.add_argument(
        "--set",
        metavar="GROUP.OPTION=VALUE",
        action="append",
        default=[],
        help="extra nova-all option (repeatable), e.g. database.max_write_wait=1",
    )
    args = parser.parse_args(argv)

    CONF([], default_config_files=[])
    workdir = tempfile.mkdtemp(prefix="nova-bench-launch-")
    CONF.set_override("state_path", os.path.join(workdir, "baseline"))
    try:
        baseline = bench_baseline(args.servers, args.baseline_repeat, workdir)
        runs = []
        for run in range(args.repeat):
            state = os.path.join(workdir, f"nova-all-{run}" if run else "nova-all")
            os.makedirs(state)
            runs.append(
                bench_nova_all(
                    args.servers,
                    args.clients,
                    args.poll_interval,
                    args.timeout,
                    state,
                    args.py_spy if run == 0 else None,
                    args.py_spy_option,
                    shlex.split(args.command) if args.command else None,
                    args.set,
                    args.stall,
                    args.poll_margin,
                    args.full_poll_every,
                )
            )
        # The VM's timings swing by a fifth from one run to the next: the
        # median run stands for them all, every run's rate is listed.
        nova = sorted(runs, key=lambda run: run["servers_per_s"])[(len(runs) - 1) // 2]
        nova["runs_servers_per_s"] = [run["servers_per_s"] for run in runs]
    finally:
        CONF.clear_override("state_path")
        CONF.clear_override("connection", group="database")
        if args.keep_state:
            print(f"state kept in {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    report = {
        "benchmark": "launch",
        "machine": machine(),
        "nova_all": nova,
        "baseline": baseline,
        "servers_per_s": nova["servers_per_s"],
        "p50_s": nova["define_to_active"]["p50_s"],
        "p95_s": nova["define_to_active"]["p95_s"],
        "baseline_per_s": baseline["per_s"],
        "ratio": round(nova["servers_per_s"] / baseline["per_s"], 3),
        "active": nova["active"],
        "goal": {
            "min_servers_per_s": GOAL_PER_S,
            "all_active": all(run["active"] == args.servers for run in runs),
            "met": nova["servers_per_s"] >= GOAL_PER_S
            and all(run["active"] == args.servers for run in runs),
        },
    }
    json.dump(report, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
