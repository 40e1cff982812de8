#!/usr/bin/env python3
"""Measure how Nova's costs grow with the cloud's size; prints one JSON document.

    bench/scale.py [--parts listing,scheduling,cluster] [--sizes 1000,10000,100000]
                   [--hosts 1,100,1000] [--computes 1,2,4] [--backends sqlite,postgresql]

Three parts (``--parts``), each a key of the report:

``listing``
    ``GET /v2.1/servers?limit=100`` and ``GET /v2.1/servers/detail?limit=100``
    through the compute API's WSGI app in this process (``noauth2``, token
    ``alice:demo``, the legacy network backend: addresses come from Nova's
    own tables, no network service is asked, see ``bench/api.py``) with
    ``--sizes`` instances in the database, on SQLite (a file) and PostgreSQL
    (``--postgresql-url`` or ``$NOVA_TEST_POSTGRESQL_URL``, an admin URL; a
    database is created and dropped). The rows are written straight through
    SQLAlchemy Core, one transaction per ``BATCH`` instances: nine in ten
    instances are the project's, each with 3 metadata items, a VIF on a
    legacy network and its fixed IP, one in ten in ERROR with a fault.
    One database per size. Each request is timed ``--requests`` times (p50,
    p95) for the first page and for a page after a ``marker`` half-way down
    the project's listing; the four requests take turns, and so do the
    sizes (five rounds through every database), because on a shared machine
    bursts of other work moved the figures more than the sizes did (the load
    average before and after is in the report). Beside the
    timings: the statements one request runs and the query plans of those
    that read ``instances`` (``EXPLAIN``): whether the database scans the
    table or sorts it (``full_scan``, ``sort``), and whether a statement
    counts rows or uses OFFSET. Goal: at the largest size, p50 no more than
    ``GOAL_LISTING_RATIO`` times the smallest size's.

``scheduling``
    ``--hosts`` compute hosts as real rows of ``services`` (heartbeat now)
    and ``compute_nodes`` (room for exactly the instances to place, so hosts
    fill up and claims race at the end), and ``--placements`` instances
    waiting for a host (BUILD/scheduling), on each backend. Two scheduler
    processes (fork), each with its own ``SchedulerManager`` and engine on
    the same database, call ``schedule()`` for their half of the instances:
    read the instance, load every host's state (one query), filter, weigh,
    claim (one conditional UPDATE with the instance's update, one
    transaction), then cast ``run_instance`` to the host. The cast goes to a
    simulated compute that records it (``SimulatedComputes``): the broker is
    not part of this figure, the scheduler's database work and Python are.
    Reported: placements per second over the window of both processes,
    claim conflicts (a claim that lost the race for a host's last room: the
    scheduler's "lost a race" log lines), instances left without a host, and
    a check that no host holds more than its room. Goal: at least
    ``GOAL_PLACEMENTS_PER_S`` at the largest host count.

``cluster``
    ``./run_nova.sh --cluster --computes N`` (PostgreSQL, RabbitMQ,
    quantum-server, nova-api, nova-scheduler, N nova-compute processes) with
    ``NOVA_STATE_PATH`` a temporary directory, for each of ``--computes``
    (allocation ratios of 1000 in its ``etc/local.conf``, so that the test
    driver's hosts take the memory run's servers); the API endpoint and the
    processes' PIDs are read from ``$NOVA_STATE_PATH/cluster.env``;
    ``--cluster-servers`` servers are created at once by ``--clients``
    threads and the time from the first create to the last ACTIVE is taken
    (servers/s). The RSS of every process (and of nova-api's gunicorn
    workers) is read idle, after start, and, in the largest run, after
    ``--memory-servers`` servers in all. ``./run_nova.sh --cluster stop``
    ends each run. Goal: 2 computes at least ``GOAL_CLUSTER_SPEEDUP``
    times 1 compute's rate.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import datetime
import functools
import importlib.metadata
import json
import logging
import math
import multiprocessing
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import common  # bench/common.py, beside this script (puts the repository on sys.path)
import sqlalchemy as sa
import webob
from sqlalchemy import event

import nova.conf
from nova import context as nova_context
from nova.api.openstack import router
from nova.compute import vm_states
from nova.db import migration
from nova.db import models
from nova.db import session as db_session
from nova.scheduler import manager as scheduler_manager
from tests.fixtures import databases

CONF = nova.conf.CONF
GOAL_LISTING_RATIO = 2.0
GOAL_PLACEMENTS_PER_S = 200.0
GOAL_CLUSTER_SPEEDUP = 1.5
TOKEN = "alice:demo"
PROJECT = "demo"
PAGE = 100
BATCH = 5000
BASE_TIME = datetime.datetime(2011, 8, 17, 12, 0, 0)

_tables = models.Base.metadata.tables


# --- the listing ------------------------------------------------------------------------


class Filler:
    """Writes instances with their metadata, VIF, fixed IP and faults, in batches.

    Explicit ids, so one batch is four multi-row INSERTs in one transaction.
    ``created_at`` grows by one second every second instance (pairs share a
    time: the id must break ties in the listing's order).
    """

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.written = 0
        with engine.begin() as conn:
            conn.execute(
                sa.insert(_tables["networks"]),
                {
                    "id": 1,
                    "uuid": str(uuid.uuid4()),
                    "label": "private",
                    "cidr": "10.0.0.0/8",
                    "bridge": "br100",
                    "vlan": 100,
                    "multi_host": False,
                },
            )
            self.flavors = [
                tuple(row)
                for row in conn.execute(
                    sa.select(
                        _tables["flavors"].c.id,
                        _tables["flavors"].c.memory_mb,
                        _tables["flavors"].c.vcpus,
                        _tables["flavors"].c.root_gb,
                    )
                    .where(_tables["flavors"].c.deleted == 0)
                    .order_by(_tables["flavors"].c.id)
                    .limit(3)
                )
            ]

    def fill(self, total: int) -> None:
        """Write instances until there are ``total``."""
        while self.written < total:
            count = min(BATCH, total - self.written)
            self._batch(self.written + 1, count)
            self.written += count

    def _batch(self, first: int, count: int) -> None:
        instances, metadata, vifs, fixed_ips, faults = [], [], [], [], []
        for index in range(first, first + count):
            flavor_id, memory_mb, vcpus, root_gb = self.flavors[index % len(self.flavors)]
            error = index % 10 == 7
            created = BASE_TIME + datetime.timedelta(seconds=index // 2)
            instances.append(
                {
                    "id": index,
                    "uuid": str(uuid.uuid4()),
                    "project_id": "other" if index % 10 == 3 else PROJECT,
                    "user_id": "alice",
                    "display_name": f"vm-{index}",
                    "flavor_id": flavor_id,
                    "memory_mb": memory_mb,
                    "vcpus": vcpus,
                    "root_gb": root_gb,
                    "image_ref": "cirros-0.6.2",
                    "vm_state": "error" if error else "active",
                    "host": None if error else f"compute-{index % 50}",
                    "launched_at": None if error else created,
                    "created_at": created,
                    "deleted": 0,
                }
            )
            for key, value in (("role", "web"), ("index", str(index)), ("owner", "ops")):
                metadata.append({"instance_id": index, "key": key, "value": value})
            vifs.append(
                {
                    "id": index,
                    "uuid": str(uuid.uuid4()),
                    "address": f"fa:16:3e:{index >> 16 & 255:02x}:{index >> 8 & 255:02x}:"
                    f"{index & 255:02x}",
                    "instance_id": index,
                    "network_id": 1,
                    "created_at": created,
                    "deleted": 0,
                }
            )
            fixed_ips.append(
                {
                    "id": index,
                    "address": f"10.{index >> 16 & 255}.{index >> 8 & 255}.{index & 255}",
                    "network_id": 1,
                    "instance_id": index,
                    "virtual_interface_id": index,
                    "allocated": True,
                    "deleted": 0,
                }
            )
            if error:
                faults.append(
                    {
                        "instance_id": index,
                        "code": 500,
                        "message": "No valid host was found",
                        "details": "",
                        "created_at": created,
                        "deleted": 0,
                    }
                )
        with self.engine.begin() as conn:
            conn.execute(sa.insert(_tables["instances"]), instances)
            conn.execute(sa.insert(_tables["instance_metadata"]), metadata)
            conn.execute(sa.insert(_tables["virtual_interfaces"]), vifs)
            conn.execute(sa.insert(_tables["fixed_ips"]), fixed_ips)
            conn.execute(sa.insert(_tables["instance_faults"]), faults)
        if self.engine.dialect.name == "postgresql":
            # The ids were given: move the sequences past them for later inserts.
            with self.engine.begin() as conn:
                for table in ("instances", "virtual_interfaces", "fixed_ips"):
                    conn.exec_driver_sql(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )


def analyze(engine: sa.Engine) -> None:
    """Refresh the planner's statistics after a bulk insert, as autovacuum (PostgreSQL) would.

    Without, PostgreSQL plans as if the tables were empty: a nested loop
    over services and compute nodes took 84 ms at 1,000 hosts, 1 ms after.
    """
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
        else:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()


def get(app, path: str) -> webob.Response:
    response = webob.Request.blank(path, headers={"X-Auth-Token": TOKEN}).get_response(app)
    if response.status_int != 200:
        raise AssertionError(f"{path}: {response.status} {response.text[:300]}")
    return response


def timed(app, paths: dict[str, str], requests: int) -> dict[str, list[float]]:
    """Return ``{name: latencies in s}`` of ``requests`` GETs of each of ``paths``.

    The paths take turns, one request each (after two rounds of warm-up), so
    that a burst of load from elsewhere on the machine falls on all of them
    alike.
    """
    latencies: dict[str, list[float]] = {name: [] for name in paths}
    for round_number in range(requests + 2):
        for name, path in paths.items():
            start = time.perf_counter()
            get(app, path)
            if round_number >= 2:
                latencies[name].append(time.perf_counter() - start)
    return latencies


def listing_paths(marker: str) -> dict[str, str]:
    """Return the four listings timed: the first page and the page after ``marker``."""
    return {
        "index": f"/v2.1/servers?limit={PAGE}",
        "detail": f"/v2.1/servers/detail?limit={PAGE}",
        "index_marker": f"/v2.1/servers?limit={PAGE}&marker={marker}",
        "detail_marker": f"/v2.1/servers/detail?limit={PAGE}&marker={marker}",
    }


def captured_statements(app, path: str) -> list[tuple[str, object]]:
    """Return the statements (SQL, parameters) the engine runs for one GET of ``path``."""
    engine = db_session.get_engine()
    captured: list[tuple[str, object]] = []

    def before(_conn, _cursor, statement, parameters, _context, _executemany):
        captured.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", before)
    try:
        get(app, path)
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return captured


def skips_rows(sql: str, parameters: object) -> bool:
    """Tell whether ``sql`` skips rows with an OFFSET other than 0.

    SQLite's dialect writes ``LIMIT ? OFFSET ?`` (0) after every LIMIT: not a skip.
    """
    found = re.search(r"\bOFFSET\s+(\?|%\((\w+)\)s|\d+)", sql, re.I)
    if found is None:
        return False
    if found.group(1) == "?":
        value = list(parameters)[-1]  # type: ignore[call-overload]  # the last placeholder
    elif found.group(2):
        value = parameters[found.group(2)]  # type: ignore[index]
    else:
        value = int(found.group(1))
    return value != 0


def sqlite_sorts_instances(rows: list) -> bool:
    """Tell whether a SQLite plan sorts rows of ``instances`` (not a page of them).

    ``EXPLAIN QUERY PLAN`` rows are ``(id, parent, _, detail)``: a temporary
    B-tree for the ORDER BY beside the read of ``instances`` at one level.
    """
    levels: dict[int, list[str]] = {}
    for _id, parent, _unused, detail in rows:
        levels.setdefault(parent, []).append(detail)
    return any(
        any(detail.startswith("USE TEMP B-TREE FOR") for detail in details)
        and any(re.match(r"(SCAN|SEARCH) instances\b", detail) for detail in details)
        for details in levels.values()
    )


def postgresql_sorts_instances(lines: list[str]) -> bool:
    """Tell whether a PostgreSQL plan sorts rows of ``instances`` (not a page of them).

    A Sort node with a scan of ``instances`` below it and no Limit between:
    sorting the page a LIMIT picked (at most ``PAGE`` rows) is not a concern.
    """
    nodes = []  # (depth, text) of each plan node
    for number, line in enumerate(lines):
        if number == 0:
            nodes.append((0, line.strip()))
        elif line.lstrip().startswith("->"):
            nodes.append((line.index("->") + 2, line.strip()[2:].strip()))
    for index, (depth, text) in enumerate(nodes):
        if not re.match(r"(Incremental )?Sort\b", text):
            continue
        below = []
        for child_depth, child in nodes[index + 1 :]:
            if child_depth <= depth:
                break
            below.append(child)
        if any(" on instances" in child for child in below) and not any(
            child.startswith("Limit") for child in below
        ):
            return True
    return False


def plan_facts(engine: sa.Engine, statements: list[tuple[str, object]]) -> dict:
    """EXPLAIN the statements that read ``instances``: table scans, sorts, counts, OFFSET."""
    facts = {
        "statements": len(statements),
        "count_star": any(re.search(r"\bcount\s*\(", sql, re.I) for sql, _ in statements),
        "offset": any(skips_rows(sql, parameters) for sql, parameters in statements),
        "plans": [],
    }
    sqlite = engine.dialect.name == "sqlite"
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for sql, parameters in statements:
            if not re.search(r"\bFROM instances\b", sql):
                continue
            cursor.execute(("EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN ") + sql, parameters)
            rows = cursor.fetchall()
            text = "\n".join(str(row[-1] if sqlite else row[0]) for row in rows)
            if sqlite:
                full_scan = bool(re.search(r"^SCAN instances\b(?! USING)", text, re.M))
                sort = sqlite_sorts_instances(rows)
            else:
                full_scan = "Seq Scan on instances" in text
                sort = postgresql_sorts_instances(text.splitlines())
            facts["plans"].append(
                {"sql": " ".join(sql.split())[:160], "full_scan": full_scan, "sort": sort}
            )
        raw.rollback()
    finally:
        raw.close()
    facts["full_scan"] = any(plan["full_scan"] for plan in facts["plans"])
    facts["sort"] = any(plan["sort"] for plan in facts["plans"])
    return facts


def middle_marker(engine: sa.Engine) -> str:
    """Return the uuid of the project's instance half-way down its listing (newest first)."""
    instances = _tables["instances"]
    where = (instances.c.project_id == PROJECT, instances.c.deleted == 0)
    with engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).where(*where)).scalar_one()
        return conn.execute(
            sa.select(instances.c.uuid)
            .where(*where)
            .order_by(instances.c.created_at.desc(), instances.c.id.desc())
            .offset(total // 2)
            .limit(1)
        ).scalar_one()


@contextlib.contextmanager
def database(backend: str, admin_url: str | None):
    """Yield the URL of a new, empty database on ``backend``; drop it afterwards."""
    created = databases.Database(backend, admin_url)
    try:
        yield created.url
    finally:
        db_session.dispose_engine()
        created.drop()


def use_database(url: str) -> None:
    """Point Nova at the database ``url`` from its next request on."""
    CONF.set_override("connection", url, group="database")
    db_session.dispose_engine()


@contextlib.contextmanager
def nova_on(url: str, state_path: str):
    """Point Nova's configuration at ``url`` (the legacy network backend) for the block."""
    CONF.set_override("state_path", state_path)
    CONF.set_override("connection", url, group="database")
    CONF.set_override("backend", "legacy", group="network")
    db_session.dispose_engine()
    try:
        yield
    finally:
        db_session.dispose_engine()
        CONF.clear_override("connection", group="database")
        CONF.clear_override("backend", group="network")
        CONF.clear_override("state_path")


def bench_listing(
    backend: str, admin_url: str | None, sizes: list[int], requests: int, rounds: int = 5
) -> dict:
    """Time the listings on ``backend`` at each of ``sizes``, one database per size.

    The sizes take turns too: ``rounds`` rounds, each pointing Nova at every
    database in turn and timing ``requests / rounds`` requests of each listing
    there, so that the machine's bursts of load fall on every size alike.
    """
    runs: list[dict] = []
    state_path = tempfile.mkdtemp(prefix="nova-bench-scale-")
    latencies: dict[int, dict[str, list[float]]] = {}
    per_round = max(1, requests // rounds)
    try:
        with contextlib.ExitStack() as stack:
            urls = {}
            for size in sorted(sizes):
                url = stack.enter_context(database(backend, admin_url))
                migration.db_sync(url=url)
                engine = sa.create_engine(url)
                stack.callback(engine.dispose)
                start = time.perf_counter()
                Filler(engine).fill(size)
                analyze(engine)
                runs.append({"instances": size, "fill_s": round(time.perf_counter() - start, 2)})
                urls[size] = (url, engine, listing_paths(middle_marker(engine)))
            stack.enter_context(nova_on(urls[sorted(sizes)[0]][0], state_path))
            app = router.APIRouter()
            for run in runs:
                url, engine, paths = urls[run["instances"]]
                use_database(url)
                for name, path in paths.items():
                    servers = json.loads(get(app, path).body)["servers"]
                    assert len(servers) == PAGE, (path, len(servers))
                    run[name] = plan_facts(engine, captured_statements(app, path))
                latencies[run["instances"]] = {name: [] for name in paths}
            load_before = round(os.getloadavg()[0], 2)
            for _round in range(rounds):
                for run in runs:
                    url, _engine, paths = urls[run["instances"]]
                    use_database(url)
                    for name, values in timed(app, paths, per_round).items():
                        latencies[run["instances"]][name] += values
            load_after = round(os.getloadavg()[0], 2)
    finally:
        shutil.rmtree(state_path, ignore_errors=True)
    for run in runs:
        for name, values in latencies[run["instances"]].items():
            run[name].update(
                {
                    "p50_ms": round(1000 * common.percentile(values, 0.5), 2),
                    "p95_ms": round(1000 * common.percentile(values, 0.95), 2),
                    "requests": len(values),
                }
            )
        print(f"listing {backend} {run['instances']}: {summary_line(run)}", file=sys.stderr)
    runs[0]["load_average_before"] = load_before
    runs[-1]["load_average_after"] = load_after
    first, last = runs[0], runs[-1]
    ratios = {
        name: round(last[name]["p50_ms"] / first[name]["p50_ms"], 2)
        for name in ("index", "detail", "index_marker", "detail_marker")
    }
    return {
        "runs": runs,
        "ratio_largest_to_smallest_p50": ratios,
        "goal": {
            "max_ratio": GOAL_LISTING_RATIO,
            "met": max(ratios.values()) <= GOAL_LISTING_RATIO,
        },
    }


def summary_line(run: dict) -> str:
    return ", ".join(
        f"{name} p50 {run[name]['p50_ms']} ms"
        for name in ("index", "detail", "index_marker", "detail_marker")
    )


# --- scheduling -------------------------------------------------------------------------


class SimulatedComputes:
    """The compute hosts' side of the cast: records each ``run_instance`` it receives."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str]] = []

    def run_instance(self, context, host, instance_uuid, **kwargs) -> None:
        self.received.append((host, instance_uuid))


class RaceCounter(logging.Handler):
    """Counts the scheduler's "lost a race" lines (a claim that found no room left)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "lost a race" in record.msg:
            self.count += 1


def populate_hosts(engine: sa.Engine, hosts: int, placements: int) -> dict:
    """Write ``hosts`` up compute services and nodes with room for ``placements`` m1.tiny."""
    per_host = math.ceil(placements / hosts)
    now = models.utcnow()
    flavor = {"memory_mb": 512, "vcpus": 1, "root_gb": 1}
    with engine.begin() as conn:
        conn.execute(
            sa.insert(_tables["services"]),
            [
                {
                    "id": index + 1,
                    "host": f"compute-{index:04d}",
                    "binary": "nova-compute",
                    "topic": "compute",
                    "report_count": 1,
                    "disabled": False,
                    "created_at": now,
                    "updated_at": now,
                    "deleted": 0,
                }
                for index in range(hosts)
            ],
        )
        conn.execute(
            sa.insert(_tables["compute_nodes"]),
            [
                {
                    "id": index + 1,
                    "service_id": index + 1,
                    "host": f"compute-{index:04d}",
                    "hypervisor_type": "QEMU",
                    "vcpus": per_host,
                    "memory_mb": per_host * flavor["memory_mb"],
                    "local_gb": per_host * flavor["root_gb"],
                    "created_at": now,
                    "deleted": 0,
                }
                for index in range(hosts)
            ],
        )
        uuids = [str(uuid.uuid4()) for _ in range(placements)]
        conn.execute(
            sa.insert(_tables["instances"]),
            [
                {
                    "uuid": instance_uuid,
                    "project_id": PROJECT,
                    "user_id": "alice",
                    "display_name": f"vm-{index}",
                    "flavor_id": 1,
                    **flavor,
                    "image_ref": "cirros",
                    "vm_state": vm_states.BUILDING,
                    "task_state": vm_states.SCHEDULING,
                    "created_at": now,
                    "deleted": 0,
                }
                for index, instance_uuid in enumerate(uuids)
            ],
        )
    analyze(engine)
    return {"uuids": uuids, "per_host": per_host}


def _scheduler_process(uuids: list[str], results) -> None:
    """One scheduler: its own manager and engine; schedule each instance of ``uuids``."""
    races = RaceCounter()
    logger = logging.getLogger(scheduler_manager.__name__)
    logger.addHandler(races)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    computes = SimulatedComputes()
    manager = scheduler_manager.SchedulerManager(compute=computes)  # type: ignore[arg-type]
    context = nova_context.get_admin_context()
    # Warm up: the engine's pool and the compiled statements (not a placement).
    db_session.get_engine()
    manager.host_states(context)
    start = time.time()
    for instance_uuid in uuids:
        manager.schedule(context, instance_uuid)
    end = time.time()
    results.put({"start": start, "end": end, "casts": len(computes.received), "races": races.count})


def bench_scheduling(
    backend: str, admin_url: str | None, host_counts: list[int], placements: int
) -> dict:
    """Two scheduler processes placing ``placements`` instances on each of ``host_counts``."""
    runs = []
    for hosts in host_counts:
        state_path = tempfile.mkdtemp(prefix="nova-bench-scale-")
        try:
            with database(backend, admin_url) as url, nova_on(url, state_path):
                CONF.set_override("ram_allocation_ratio", 1.0)
                CONF.set_override("cpu_allocation_ratio", 1.0)
                CONF.set_override("disk_allocation_ratio", 1.0)
                migration.db_sync(url=url)
                engine = sa.create_engine(url)
                made = populate_hosts(engine, hosts, placements)
                db_session.dispose_engine()  # nothing shared with the children
                context = multiprocessing.get_context("fork")
                results = context.Queue()
                halves = [made["uuids"][0::2], made["uuids"][1::2]]
                workers = [
                    context.Process(target=_scheduler_process, args=(half, results))
                    for half in halves
                ]
                for worker in workers:
                    worker.start()
                reports = [results.get(timeout=600) for _ in workers]
                for worker in workers:
                    worker.join()
                    assert worker.exitcode == 0, worker.exitcode
                window = max(r["end"] for r in reports) - min(r["start"] for r in reports)
                instances, nodes = _tables["instances"], _tables["compute_nodes"]
                with engine.connect() as conn:
                    placed = conn.execute(
                        sa.select(sa.func.count()).where(instances.c.host.is_not(None))
                    ).scalar_one()
                    over = conn.execute(
                        sa.select(sa.func.count()).where(nodes.c.memory_mb_used > nodes.c.memory_mb)
                    ).scalar_one()
                    per_host = conn.execute(
                        sa.select(sa.func.max(nodes.c.running_vms))
                    ).scalar_one()
                engine.dispose()
                run = {
                    "load_average_after": round(os.getloadavg()[0], 2),
                    "hosts": hosts,
                    "placements": placements,
                    "room_per_host": made["per_host"],
                    "placed": placed,
                    "not_placed": placements - placed,
                    "casts": sum(r["casts"] for r in reports),
                    "claim_conflicts": sum(r["races"] for r in reports),
                    "hosts_over_committed": over,
                    "most_on_one_host": per_host,
                    "seconds": round(window, 3),
                    "placements_per_s": round(placed / window, 1),
                }
                runs.append(run)
                print(
                    f"scheduling {backend} {hosts} hosts: {run['placements_per_s']}/s, "
                    f"{run['claim_conflicts']} conflicts",
                    file=sys.stderr,
                )
        finally:
            for option in ("ram_allocation_ratio", "cpu_allocation_ratio", "disk_allocation_ratio"):
                CONF.clear_override(option)
            shutil.rmtree(state_path, ignore_errors=True)
    largest = max(runs, key=lambda run: run["hosts"])
    return {
        "runs": runs,
        "goal": {
            "min_placements_per_s": GOAL_PLACEMENTS_PER_S,
            "hosts": largest["hosts"],
            "met": largest["placements_per_s"] >= GOAL_PLACEMENTS_PER_S,
        },
    }


# --- the cluster ------------------------------------------------------------------------


def read_env(path: str) -> dict[str, str]:
    """Return the ``NAME=value`` lines of a shell environment file (quotes removed)."""
    values = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            line = line.strip()
            if line.startswith("export "):
                line = line[len("export ") :]
            name, separator, value = line.partition("=")
            if separator and not line.startswith("#"):
                values[name.strip()] = value.strip().strip("'\"")
    return values


def api_endpoint(env: dict[str, str]) -> str:
    """Return the compute API's base URL (ending in /v2.1) from ``cluster.env``."""
    return env["NOVA_CLUSTER_API"].rstrip("/")


def _rss_kib(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as handle:
            return [int(child) for child in handle.read().split()]
    except OSError:
        return []


def _cluster_processes(env: dict[str, str]) -> list[tuple[str, int]]:
    """Return (name, pid) of the cluster's processes and their children (``nova-api/1`` ...)."""
    found = []
    prefix = "NOVA_CLUSTER_PID_"
    for key, value in env.items():
        if key.startswith(prefix):
            name = key[len(prefix) :].lower().replace("_", "-")
            pid = int(value)
            found.append((name, pid))
            found += [(f"{name}/{n}", child) for n, child in enumerate(_children(pid), 1)]
    return found


def rss_of_processes(env: dict[str, str]) -> dict[str, int]:
    """Return ``{process: RSS in KiB}`` of the cluster's processes (``NOVA_CLUSTER_PID_*``)."""
    found = {}
    for name, pid in _cluster_processes(env):
        rss = _rss_kib(pid)
        if rss is not None:
            found[name] = rss
    return found


def _cpu_s(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _machine_busy() -> tuple[float, float]:
    """Return the machine's (busy, total) CPU seconds since boot (``/proc/stat``)."""
    with open("/proc/stat", encoding="ascii") as handle:
        values = [int(v) for v in handle.readline().split()[1:]]
    total = sum(values) / os.sysconf("SC_CLK_TCK")
    return total - (values[3] + values[4]) / os.sysconf("SC_CLK_TCK"), total


def cpu_during(env: dict[str, str], function) -> tuple[dict, dict]:
    """Run ``function()``; return its result and the CPU the cluster and machine spent meanwhile."""
    processes = _cluster_processes(env)
    before = {name: _cpu_s(pid) for name, pid in processes}
    busy_before, total_before = _machine_busy()
    result = function()
    busy, total = _machine_busy()
    spent = {}
    for name, pid in processes:
        now = _cpu_s(pid)
        if now is not None and before[name] is not None:
            spent[name] = round(now - before[name], 2)
    usage = {
        "cpu_s": spent,
        "machine_busy": round((busy - busy_before) / max(total - total_before, 1e-9), 2),
    }
    return result, usage


#: Read last by every process of the cluster (``tools/cluster-mode.sh``): the test
#: driver's hosts (3072 MB, few vCPUs) take the memory run's 1,000 m1.tiny.
CLUSTER_LOCAL_CONF = """[DEFAULT]
ram_allocation_ratio = 1000.0
cpu_allocation_ratio = 1000.0
disk_allocation_ratio = 1000.0
"""


def launch_servers(api: str, count: int, clients: int, first: int = 0) -> dict:
    """Create ``count`` servers at once; return servers/s to the last ACTIVE and errors."""
    import requests

    headers = {"X-Auth-Token": TOKEN, "Content-Type": "application/json"}
    session_local = threading.local()

    def create(index: int) -> str:
        session = getattr(session_local, "session", None)
        if session is None:
            session = session_local.session = requests.Session()
        body = {
            "server": {
                "name": f"scale-{index:05d}",
                "imageRef": "cirros",
                "flavorRef": "1",
                "networks": "none",
            }
        }
        answer = session.post(f"{api}/servers", json=body, headers=headers, timeout=60)
        answer.raise_for_status()
        return answer.json()["server"]["id"]

    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        ids = set(pool.map(create, range(first, first + count)))
    statuses: dict[str, str] = {}
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        listing = requests.get(
            f"{api}/servers/detail?limit=1000", headers=headers, timeout=60
        ).json()["servers"]
        statuses.update({s["id"]: s["status"] for s in listing if s["id"] in ids})
        if all(statuses.get(i) in ("ACTIVE", "ERROR") for i in ids):
            break
        time.sleep(0.5)
    elapsed = time.monotonic() - start
    active = sum(status == "ACTIVE" for status in statuses.values())
    return {
        "servers": count,
        "active": active,
        "error": sum(status == "ERROR" for status in statuses.values()),
        "seconds": round(elapsed, 2),
        "servers_per_s": round(active / elapsed, 2),
    }


def bench_cluster(computes: list[int], servers: int, memory_servers: int, clients: int) -> dict:
    """Launch throughput and RSS of ``./run_nova.sh --cluster`` for each compute count."""
    script = os.path.join(common.REPOSITORY, "run_nova.sh")
    runs = []
    for count in computes:
        state = tempfile.mkdtemp(prefix="nova-bench-cluster-")
        environment = {**os.environ, "NOVA_STATE_PATH": state}
        os.makedirs(os.path.join(state, "etc"))
        with open(os.path.join(state, "etc", "local.conf"), "w", encoding="utf-8") as handle:
            handle.write(CLUSTER_LOCAL_CONF)
        try:
            subprocess.run(
                [script, "--cluster", "--computes", str(count)],
                env=environment,
                check=True,
                stdout=subprocess.DEVNULL,
                timeout=600,
            )
            env = read_env(os.path.join(state, "cluster.env"))
            api = api_endpoint(env)
            run = {"computes": count, "rss_idle_kib": rss_of_processes(env)}
            launched, usage = cpu_during(
                env, functools.partial(launch_servers, api, servers, clients)
            )
            run.update(launched)
            run.update(usage)
            if count == max(computes) and memory_servers > servers:
                more = launch_servers(api, memory_servers - servers, clients, first=servers)
                run["memory_run"] = more
                run["rss_after_kib"] = rss_of_processes(env)
            runs.append(run)
            print(f"cluster {count} computes: {run['servers_per_s']} servers/s", file=sys.stderr)
        finally:
            subprocess.run([script, "--cluster", "stop"], env=environment, check=False, timeout=300)
            shutil.rmtree(state, ignore_errors=True)
    rates = {run["computes"]: run["servers_per_s"] for run in runs}
    report: dict = {"runs": runs}
    if 1 in rates and 2 in rates and rates[1]:
        speedup = round(rates[2] / rates[1], 2)
        report["goal"] = {
            "min_speedup_2_over_1": GOAL_CLUSTER_SPEEDUP,
            "speedup": speedup,
            "met": speedup >= GOAL_CLUSTER_SPEEDUP,
        }
    return report


# --- main -------------------------------------------------------------------------------


def numbers(text: str) -> list[int]:
    return [int(item) for item in text.split(",") if item]


def machine() -> dict:
    return common.machine(
        sqlite=sqlite3.sqlite_version,
        sqlalchemy=sa.__version__,
        psycopg=importlib.metadata.version("psycopg"),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default="listing,scheduling,cluster")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--sizes", type=numbers, default=[1000, 10000, 100000])
    parser.add_argument("--requests", type=int, default=30, help="timed requests per listing")
    parser.add_argument("--hosts", type=numbers, default=[1, 100, 1000])
    parser.add_argument("--placements", type=int, default=2000, help="instances to schedule")
    parser.add_argument("--computes", type=numbers, default=[1, 2, 4])
    parser.add_argument("--cluster-servers", type=int, default=300)
    parser.add_argument("--memory-servers", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument(
        "--postgresql-url",
        default=os.environ.get("NOVA_TEST_POSTGRESQL_URL"),
        help="admin URL of a PostgreSQL server (default: $NOVA_TEST_POSTGRESQL_URL)",
    )
    args = parser.parse_args(argv)
    parts = set(args.parts.split(","))
    backends = [b for b in args.backends.split(",") if b]

    CONF([], default_config_files=[])
    report: dict = {
        "benchmark": "scale",
        "machine": machine(),
        "page": PAGE,
    }
    skipped = {}
    usable = []
    for backend in backends:
        if backend == "postgresql" and not args.postgresql_url:
            skipped[backend] = "no --postgresql-url or $NOVA_TEST_POSTGRESQL_URL"
        else:
            usable.append(backend)
    if skipped:
        report["skipped_backends"] = skipped
    if "listing" in parts:
        report["listing"] = {
            "measured": (
                "GET /v2.1/servers?limit=100 and /servers/detail?limit=100 through the WSGI "
                "app in-process, legacy network backend; first page and a page after a "
                "marker half-way down; nine in ten instances in the project"
            ),
            "requests": args.requests,
            **{
                backend: bench_listing(backend, args.postgresql_url, args.sizes, args.requests)
                for backend in usable
            },
        }
    if "scheduling" in parts:
        report["scheduling"] = {
            "measured": (
                "two scheduler processes (own SchedulerManager and engine, same database) "
                "calling schedule(): instance read, host states (one query), filters, "
                "weigher, conditional claim UPDATE, cast to a simulated compute that "
                "records it (no broker)"
            ),
            **{
                backend: bench_scheduling(backend, args.postgresql_url, args.hosts, args.placements)
                for backend in usable
            },
        }
    if "cluster" in parts:
        report["cluster"] = bench_cluster(
            args.computes, args.cluster_servers, args.memory_servers, args.clients
        )
    json.dump(report, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
