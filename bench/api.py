#!/usr/bin/env python3
"""Benchmark read requests of the compute API in-process; prints one JSON document.

Requests per second through the WSGI app (``nova.api.openstack.router.APIRouter``,
``noauth2``, token ``alice:demo``) on a SQLite file database at the newest
schema, for:

* ``show``: ``GET /v2.1/servers/{id}`` (a server with metadata, 4 fixed IPs
  on two legacy networks and 8 VIFs);
* ``detail``: ``GET /v2.1/servers/detail`` with ``--servers`` servers in the
  project (another project holds as many, to be filtered out), each with
  metadata and a fixed IP, some in ERROR with a fault;
* ``virtual_interfaces``: ``GET /v2.1/servers/{id}/os-virtual-interfaces`` on
  that server with 8 VIFs (4 on legacy networks, 4 Quantum ports).

The data is written through the ``nova.db`` data API (``nova.db.networks`` for
the legacy networks and fixed IPs); no network service runs and nothing is
patched. Each endpoint is timed beside a baseline in the same run: a bare
``webob.dec.wsgify`` function that answers the same request with ONE
hand-written SQL query (``sqlite3`` on the same file, one connection kept
open) and builds the same JSON by hand; its bodies are checked to be
byte-identical to Nova's before timing. Runs are interleaved; the ratio is
Nova's median rate over the baseline's (goal: at least ``GOAL_RATIO``).
``nova_sql_per_request`` counts the transactions, the statements and the
commits SQLite runs for one request. ``--profile`` prints where
Nova's time goes (cProfile: the project's functions by cumulative share,
self time by package, then the usual tables) to stderr.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import importlib.metadata
import json
import os
import pstats
import shutil
import sqlite3
import statistics
import sys
import tempfile
import uuid

import common  # bench/common.py, beside this script
import orjson
import sqlalchemy as sa
import webob
import webob.dec
from sqlalchemy import event

import nova.conf
from nova import context as nova_context
from nova.api.openstack import router
from nova.db import flavors as flavor_db
from nova.db import instances as instance_db
from nova.db import migration
from nova.db import networks as legacy_db
from nova.db import session as db_session
from nova.db import virtual_interfaces as vif_db

CONF = nova.conf.CONF
GOAL_RATIO = 0.5
TOKEN = "alice:demo"
PROJECT = "demo"
IMAGE = "cirros-0.6.2"


# --- the data --------------------------------------------------------------------------


def populate(servers: int) -> dict:
    """Create the servers, VIFs and fixed IPs; return the ids the requests need."""
    admin = nova_context.get_admin_context()
    private = legacy_db.network_create_with_fixed_ips(
        admin, {"label": "private", "cidr": "10.0.0.0/24", "bridge": "br100", "vlan": 100}
    )
    storage = legacy_db.network_create_with_fixed_ips(
        admin, {"label": "storage", "cidr": "10.1.0.0/24", "bridge": "br101", "vlan": 101}
    )
    flavors = [flavor_db.flavor_get_by_flavor_id(admin, str(f)) for f in (1, 2, 3)]
    launched = datetime.datetime(2011, 8, 17, 12, 0, 0)
    free = {private.id: 2, storage.id: 2}  # .0 and the gateway .1 are reserved

    def legacy_vif(instance, network) -> None:
        vif = vif_db.virtual_interface_create(
            admin, {"instance_id": instance.id, "network_id": network.id}
        )
        address = f"{network.cidr.rsplit('.', 1)[0]}.{free[network.id]}"
        free[network.id] += 1
        legacy_db.fixed_ip_associate(admin, address, network.id, instance.id, vif.id)

    def quantum_vif(instance) -> None:
        vif_db.virtual_interface_create(
            admin,
            {
                "instance_id": instance.id,
                "network_uuid": str(uuid.uuid4()),
                "port_id": str(uuid.uuid4()),
            },
        )

    def server(project: str, index: int):
        flavor = flavors[index % len(flavors)]
        vm_state = "error" if index % 10 == 7 else "building" if index % 10 == 9 else "active"
        values = {
            "project_id": project,
            "user_id": "alice" if project == PROJECT else "bob",
            "display_name": f"vm-{index}",
            "flavor_id": flavor.id,
            "memory_mb": flavor.memory_mb,
            "vcpus": flavor.vcpus,
            "root_gb": flavor.root_gb,
            "image_ref": IMAGE,
            "vm_state": vm_state,
            "task_state": "spawning" if vm_state == "building" else None,
            "host": f"compute-{index % 3}" if vm_state == "active" else None,
            "availability_zone": "az1" if index % 2 else None,
            "reservation_id": f"r-{index:08x}",
            "launch_index": 0,
            "launched_at": launched + datetime.timedelta(minutes=index)
            if vm_state == "active"
            else None,
            "metadata": {"role": "web", "index": str(index), "owner": "ops"},
        }
        if index % 2:
            values["updated_at"] = launched + datetime.timedelta(hours=1, minutes=index)
        instance = instance_db.instance_create(admin, values)
        if vm_state == "error":
            for message in ("Build failed", "No valid host was found."):
                instance_db.instance_fault_create(
                    admin,
                    instance.id,
                    {"code": 500, "message": message, "details": "Traceback ...", "host": None},
                )
        return instance

    rich = server(PROJECT, 0)
    for index in range(8):
        if index < 4:
            legacy_vif(rich, (private, storage)[index % 2])
        else:
            quantum_vif(rich)
    for index in range(1, servers):
        instance = server(PROJECT, index)
        legacy_vif(instance, private)
        quantum_vif(instance)
    for index in range(servers):
        server("other", index)
    return {"server": rich.uuid}


# --- the baseline: one hand-written query per request ----------------------------------

ISO = "'%Y-%m-%dT%H:%M:%SZ'"
# SQLite holds times as "2011-08-17 12:00:00.000000": the usage times' format, but for the T.

SERVER_SQL = f"""
SELECT i.uuid, i.display_name, i.vm_state, i.project_id, i.user_id, i.host, i.image_ref,
       f.flavorid, i.flavor_id,
       strftime({ISO}, i.created_at), strftime({ISO}, coalesce(i.updated_at, i.created_at)),
       i.availability_zone, i.task_state,
       replace(i.launched_at, ' ', 'T'), replace(i.terminated_at, ' ', 'T'),
       (SELECT json_group_object(key, value) FROM
           (SELECT m.key, m.value FROM instance_metadata m
            WHERE m.instance_id = i.id AND m.deleted = 0 ORDER BY m.id)),
       (SELECT json_group_array(json_array(label, address, mac)) FROM
           (SELECT coalesce(n.label, '') AS label, x.address AS address, v.address AS mac
            FROM fixed_ips x
            JOIN networks n ON n.id = x.network_id
            JOIN virtual_interfaces v ON v.id = x.virtual_interface_id
            WHERE x.instance_id = i.id AND x.deleted = 0 AND v.deleted = 0
            ORDER BY v.id, x.id)),
       CASE WHEN i.vm_state = 'error' THEN
           (SELECT json_array(x.code, x.message, strftime({ISO}, x.created_at))
            FROM instance_faults x WHERE x.instance_id = i.id AND x.deleted = 0
            ORDER BY x.id DESC LIMIT 1)
       END
FROM instances i LEFT JOIN flavors f ON f.id = i.flavor_id
WHERE i.deleted = 0 AND i.project_id = ?
"""
SHOW_SQL = SERVER_SQL + "AND i.uuid = ?"
DETAIL_SQL = SERVER_SQL + "ORDER BY i.created_at DESC, i.id DESC LIMIT ?"
VIFS_SQL = """
SELECT v.uuid, v.address, coalesce(n.uuid, v.network_uuid)
FROM instances i
LEFT JOIN virtual_interfaces v ON v.instance_id = i.id AND v.deleted = 0
LEFT JOIN networks n ON n.id = v.network_id
WHERE i.uuid = ? AND i.deleted = 0 AND i.project_id = ?
ORDER BY v.id
"""
STATUS = {
    "defined": "DEFINED",
    "building": "BUILD",
    "active": "ACTIVE",
    "error": "ERROR",
    "deleted": "DELETED",
}


def _links(host: str, collection: str, item_id: str) -> list[dict]:
    return [
        {"rel": "self", "href": f"{host}/v2.1/{collection}/{item_id}"},
        {"rel": "bookmark", "href": f"{host}/{collection}/{item_id}"},
    ]


def _server(host: str, row) -> dict:
    (
        server_id, name, vm_state, project_id, user_id, server_host, image_ref,
        flavorid, flavor_pk, created, updated, zone, task_state, launched_at,
        terminated_at, metadata, addresses_json, fault,
    ) = row  # fmt: skip
    flavor_id = flavorid if flavorid is not None else str(flavor_pk)
    addresses: dict[str, list[dict]] = {}
    for label, address, mac in json.loads(addresses_json):
        addresses.setdefault(label, []).append(
            {
                "version": 6 if ":" in address else 4,
                "addr": address,
                "OS-EXT-IPS:type": "fixed",
                "OS-EXT-IPS-MAC:mac_addr": mac,
            }
        )
    active = vm_state == "active"
    view = {
        "id": server_id,
        "name": name,
        "status": STATUS.get(vm_state or "", "UNKNOWN"),
        "tenant_id": project_id,
        "user_id": user_id,
        "metadata": json.loads(metadata),
        "hostId": hashlib.sha224(f"{project_id}{server_host}".encode()).hexdigest()
        if server_host
        else "",
        "image": {
            "id": image_ref,
            "links": [{"rel": "bookmark", "href": f"{host}/images/{image_ref}"}],
        },
        "flavor": {
            "id": flavor_id,
            "links": [{"rel": "bookmark", "href": f"{host}/flavors/{flavor_id}"}],
        },
        "created": created,
        "updated": updated,
        "addresses": addresses,
        "accessIPv4": "",
        "accessIPv6": "",
        "links": _links(host, "servers", server_id),
        "OS-DCF:diskConfig": "MANUAL",
    }
    if view["status"] in PROGRESS_STATUSES:
        view["progress"] = 0  # as Nova: no operation here reports progress
    view.update(
        {
            "key_name": None,
            "config_drive": "",
            "security_groups": [{"name": "default"}],
            "OS-EXT-AZ:availability_zone": zone or "nova",
            "OS-EXT-STS:vm_state": vm_state,
            "OS-EXT-STS:task_state": task_state,
            "OS-EXT-STS:power_state": 1 if active else 0,
            "OS-SRV-USG:launched_at": launched_at,
            "OS-SRV-USG:terminated_at": terminated_at,
            "os-extended-volumes:volumes_attached": [],
        }
    )
    if fault is not None:
        code, message, fault_created = json.loads(fault)
        view["fault"] = {"code": code, "message": message, "created": fault_created}
    return view


#: Nova's statuses whose servers show ``progress``.
PROGRESS_STATUSES = frozenset(
    {"ACTIVE", "BUILD", "REBUILD", "RESIZE", "VERIFY_RESIZE", "MIGRATING"}
)


def _json(status: int, body: dict) -> webob.Response:
    return webob.Response(
        status=status,
        content_type="application/json",
        charset="utf-8",
        body=orjson.dumps(body),  # as Nova's API encodes
    )


def _not_found() -> webob.Response:
    message = "The resource could not be found."
    return _json(404, {"itemNotFound": {"code": 404, "message": message}})


def baseline_app(path: str, max_limit: int):
    """Return the bare WebOb app answering the three requests from ``path`` (SQLite)."""
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)

    @webob.dec.wsgify
    def app(request: webob.Request) -> webob.Response:
        token = request.headers.get("X-Auth-Token", "")
        user, _, project = token.partition(":")
        if not user:
            return _json(401, {"unauthorized": {"code": 401, "message": "Unauthorized"}})
        project = project or user
        host = request.host_url
        parts = request.path_info.strip("/").split("/")
        if parts[:2] != ["v2.1", "servers"] or len(parts) not in (3, 4):
            return _not_found()
        if parts[2] == "detail":
            rows = connection.execute(DETAIL_SQL, (project, max_limit)).fetchall()
            return _json(200, {"servers": [_server(host, row) for row in rows]})
        server_id = parts[2]
        if len(parts) == 3:
            row = connection.execute(SHOW_SQL, (project, server_id)).fetchone()
            if row is None:
                return _not_found()
            return _json(200, {"server": _server(host, row)})
        if parts[3] != "os-virtual-interfaces":
            return _not_found()
        rows = connection.execute(VIFS_SQL, (server_id, project)).fetchall()
        if not rows:
            return _not_found()
        base = f"{host}/v2.1/servers/{server_id}/os-virtual-interfaces"
        vifs = [
            {
                "id": vif_id,
                "mac_address": mac,
                "OS-EXT-VIF-NET:net_id": net_id,
                "links": [{"rel": "self", "href": f"{base}/{vif_id}"}],
            }
            for vif_id, mac, net_id in rows
            if vif_id is not None
        ]
        return _json(200, {"virtual_interfaces": vifs})

    app.connection = connection
    return app


# --- timing ----------------------------------------------------------------------------


def get(app, path: str) -> webob.Response:
    return webob.Request.blank(path, headers={"X-Auth-Token": TOKEN}).get_response(app)


def checked_body(app, path: str) -> bytes:
    response = get(app, path)
    if response.status_int != 200:
        raise AssertionError(f"{path}: {response.status} {response.text}")
    return response.body


def same(path: str, nova_body: bytes, baseline_body: bytes) -> str:
    """Return "bytes" or "json" (equal once parsed); fail if the bodies differ."""
    if nova_body == baseline_body:
        return "bytes"
    if json.loads(nova_body) == json.loads(baseline_body):
        return "json"
    raise AssertionError(f"{path}: the baseline differs:\n{nova_body!r}\n{baseline_body!r}")


def compare(kinds: dict, repeat: int, seconds: float) -> dict:
    """Time each kind ``repeat`` times, interleaved; report median rates and the ratio."""
    runs: dict[str, list[float]] = {kind: [] for kind in kinds}
    for _ in range(repeat):
        for kind, function in kinds.items():
            runs[kind].append(common.rate(function, seconds))
    medians = {kind: statistics.median(rates) for kind, rates in runs.items()}
    return {
        "nova_rps": round(medians["nova"]),
        "baseline_rps": round(medians["baseline"]),
        "ratio": round(medians["nova"] / medians["baseline"], 3),
        "runs_rps": {kind: [round(r) for r in rates] for kind, rates in runs.items()},
    }


def count_statements(function) -> dict:
    """Return the transactions, statements and commits SQLite runs for one call of ``function``.

    Traced at the driver (``sqlite3``'s trace callback on fresh connections),
    so statements that bypass SQLAlchemy's execution count too.
    """
    traced: list[str] = []

    def trace(dbapi_connection, _record):
        dbapi_connection.set_trace_callback(traced.append)

    # A new engine, and no connection kept from before: every one is traced.
    db_session.dispose_engine()
    engine = db_session.get_engine()
    event.listen(engine, "connect", trace)
    try:
        function()
    finally:
        event.remove(engine, "connect", trace)
        db_session.dispose_engine()  # the timed runs use untraced connections
    words = [sql.split()[0].upper() for sql in traced]
    return {
        "transactions": words.count("BEGIN"),
        "statements": sum(word not in ("BEGIN", "COMMIT", "ROLLBACK") for word in words),
        "commits": words.count("COMMIT"),
    }


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGES = ("sqlalchemy", "webob", "routes", "jsonschema", "referencing", "json", "hashlib")


def _package(filename: str) -> str:
    """Return the area a profiled function belongs to, for the self-time summary."""
    if filename.startswith(ROOT + os.sep) and ".venv" not in filename:
        return os.path.relpath(filename, ROOT).split(os.sep)[0] + "/"
    parts = filename.replace("\\", "/").split("/")
    for package in PACKAGES:
        if package in parts:
            return package
    if filename == "~":
        return "builtins (C: sqlite3, json, dict...)"
    return "other (stdlib...)"


def profile_summary(stats: pstats.Stats, calls: int, out) -> None:
    """Print cumulative % of the project's functions and self time % by package."""
    raw = stats.stats  # type: ignore[attr-defined]
    total = sum(tottime for _, _, tottime, _, _ in raw.values())
    print(f"total {total:.3f}s for {calls} requests: {1e6 * total / calls:.0f} us each", file=out)
    print("project functions by cumulative time (% of the request):", file=out)
    rows = []
    for (filename, line, name), (_, _, tottime, cumtime, _) in raw.items():
        if filename.startswith(ROOT + os.sep) and ".venv" not in filename:
            where = f"{os.path.relpath(filename, ROOT)}:{name}"
            if not where.startswith("bench/"):
                rows.append((cumtime, tottime, where, line))
    for cumtime, _tottime, where, line in sorted(rows, reverse=True)[:30]:
        share = 100 * cumtime / total
        us = 1e6 * cumtime / calls
        print(f"  {share:5.1f}%  {us:8.0f} us  {where} (line {line})", file=out)
    print("self time by package:", file=out)
    by_package: dict[str, float] = {}
    for (filename, _, _), (_, _, tottime, _, _) in raw.items():
        key = _package(filename)
        by_package[key] = by_package.get(key, 0.0) + tottime
    for key, tottime in sorted(by_package.items(), key=lambda item: -item[1]):
        print(f"  {100 * tottime / total:5.1f}%  {key}", file=out)


def profile(functions: dict, seconds: float) -> None:
    """Print where each of Nova's requests spends its time (cProfile) to stderr."""
    for name, function in functions.items():
        profiler, calls = common.profiled(function, seconds)
        print(f"--- profile: {name} ({calls} requests) ---", file=sys.stderr)
        stats = pstats.Stats(profiler, stream=sys.stderr)
        profile_summary(stats, calls, sys.stderr)
        stats.sort_stats("cumulative").print_stats(40)
        stats.sort_stats("tottime").print_stats(20)


def machine() -> dict:
    return common.machine(
        sqlite=sqlite3.sqlite_version,
        sqlalchemy=sa.__version__,
        webob=importlib.metadata.version("webob"),
        jsonschema=importlib.metadata.version("jsonschema"),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, default=50, help="servers in the project")
    parser.add_argument("--repeat", type=int, default=7, help="timed runs of each kind")
    parser.add_argument("--seconds", type=float, default=0.5, help="length of one run")
    parser.add_argument("--profile", action="store_true", help="cProfile Nova's side to stderr")
    args = parser.parse_args(argv)

    CONF([], default_config_files=[])
    state_path = tempfile.mkdtemp(prefix="nova-bench-")
    path = os.path.join(state_path, "nova.sqlite")
    url = f"sqlite:///{path}"
    CONF.set_override("state_path", state_path)
    CONF.set_override("connection", url, group="database")
    # The API and database cost alone: the legacy backend reads addresses
    # from Nova's database (the quantum backend asks Quantum for its ports'
    # fixed IPs, a service this benchmark does not run).
    CONF.set_override("backend", "legacy", group="network")
    baseline = None
    try:
        migration.db_sync(url=url)
        db_session.dispose_engine()
        ids = populate(args.servers)
        nova = router.APIRouter()
        baseline = baseline_app(path, CONF.api.max_limit)

        paths = {
            "show": f"/v2.1/servers/{ids['server']}",
            "detail": "/v2.1/servers/detail",
            "virtual_interfaces": f"/v2.1/servers/{ids['server']}/os-virtual-interfaces",
        }
        # The baseline must answer exactly what Nova answers.
        identical = {}
        for name, request_path in paths.items():
            nova_body = checked_body(nova, request_path)
            identical[name] = same(request_path, nova_body, checked_body(baseline, request_path))
        detail = json.loads(checked_body(nova, paths["detail"]))["servers"]
        vifs = json.loads(checked_body(nova, paths["virtual_interfaces"]))
        assert len(detail) == args.servers, len(detail)
        assert len(vifs["virtual_interfaces"]) == 8, vifs

        endpoints = {}
        for name, request_path in paths.items():
            endpoints[name] = {
                "request": f"GET {request_path}",
                "identical": identical[name],
                "nova_sql_per_request": count_statements(lambda p=request_path: get(nova, p)),
                **compare(
                    {
                        "nova": lambda p=request_path: get(nova, p),
                        "baseline": lambda p=request_path: get(baseline, p),
                    },
                    args.repeat,
                    args.seconds,
                ),
            }
        endpoints["detail"]["servers"] = args.servers
        endpoints["virtual_interfaces"]["vifs"] = 8
        ratios = [endpoint["ratio"] for endpoint in endpoints.values()]
        report = {
            "benchmark": "api",
            "machine": machine(),
            "database": "sqlite file (WAL), nova.db.session engine; baseline: sqlite3, one query",
            "repeat": args.repeat,
            "seconds_per_run": args.seconds,
            **endpoints,
            "goal": {"min_ratio": GOAL_RATIO, "met": min(ratios) >= GOAL_RATIO},
        }
        if args.profile:
            profile(
                {name: lambda p=request_path: get(nova, p) for name, request_path in paths.items()},
                3.0,
            )
    finally:
        if baseline is not None:
            baseline.connection.close()
        db_session.dispose_engine()
        CONF.clear_override("connection", group="database")
        CONF.clear_override("backend", group="network")
        CONF.clear_override("state_path")
        shutil.rmtree(state_path, ignore_errors=True)
    json.dump(report, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
