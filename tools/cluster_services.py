"""The Nova services of a cluster and their last heartbeats, from its database.

    python tools/cluster_services.py --config-file NOVA.CONF
    python tools/cluster_services.py --config-file NOVA.CONF --wait HOST... \
        [--timeout S] [--started-file F]

Run by ``./run_nova.sh --cluster status`` (the first form: one line per live
row of ``services``) and by ``./run_nova.sh --cluster`` (the second: reads
the services' report counts, writes F, then returns once the services of
each HOST have reported twice more, the second time from the report loop,
which starts after the RPC server consumes, and each compute's node is
recorded; exit 1 after S seconds). The services are started after F.
Reads the ``[database] connection`` and ``service_down_time`` of NOVA.CONF
through Nova's own database code.
"""

from __future__ import annotations

import argparse
import datetime
import sys
import time

import sqlalchemy as sa
from oslo_db import exception as db_exc

import nova.conf
from nova import config
from nova import context as nova_context
from nova.compute import host_api
from nova.db import models
from nova.db import services as service_db

CONF = nova.conf.CONF


def services() -> list[dict]:
    """Return each live service row (``host_api.get_services``) with ``up``, its
    heartbeat's ``age`` in seconds and, for a compute, whether its node is recorded."""
    context = nova_context.get_admin_context()
    nodes = {service.host for service, node in service_db.compute_hosts(context) if node}
    now = models.utcnow()
    rows = []
    for state in sorted(
        host_api.get_services(context), key=lambda s: (s.service.host, s.service.binary)
    ):
        row = state.service._asdict()
        last = row["updated_at"] or row["created_at"]
        row["age"] = None if last is None else (now - last).total_seconds()
        row["up"] = state.up
        row["has_node"] = row["host"] in nodes
        rows.append(row)
    return rows


def _report_counts() -> dict[tuple[str, str], int]:
    try:
        return {(row["host"], row["binary"]): row["report_count"] for row in services()}
    except (sa.exc.DBAPIError, db_exc.DBError):
        return {}  # no schema yet: no reports


def _ready(hosts: list[str], before: dict[tuple[str, str], int]) -> bool:
    """Tell whether each host's services reported twice since ``before`` (its start, then
    its report loop's first) and each compute's node is recorded."""
    try:
        rows = [row for row in services() if row["host"] in hosts]
    except (sa.exc.DBAPIError, db_exc.DBError):
        return False  # the server is busy or restarting
    reported = {
        row["host"]
        for row in rows
        if row["up"] and row["report_count"] >= before.get((row["host"], row["binary"]), 0) + 2
    }
    nodes = all(row["has_node"] for row in rows if row["binary"] == "nova-compute")
    return set(hosts) <= reported and nodes


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config-file", required=True)
    parser.add_argument("--wait", nargs="+", metavar="HOST")
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--started-file", help="with --wait: written once the counts are read")
    args = parser.parse_args(argv)
    config.parse_args(["--config-file", args.config_file], default_config_files=[])
    if args.wait:
        before = _report_counts()
        if args.started_file:
            with open(args.started_file, "w", encoding="utf-8") as handle:
                handle.write("counted\n")
        deadline = time.monotonic() + args.timeout
        while not _ready(args.wait, before):
            if time.monotonic() > deadline:
                print(f"not every service of {' '.join(args.wait)} reported", file=sys.stderr)
                return 1
            time.sleep(0.5)
        return 0
    try:
        rows = services()
    except (sa.exc.DBAPIError, db_exc.DBError) as exc:
        print(f"services: cannot read them: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 1
    for row in rows:
        age = "never" if row["age"] is None else f"{row['age']:.0f} s ago"
        updated = row["updated_at"] or row["created_at"]
        stamp = "-"
        if updated is not None:
            stamp = updated.replace(tzinfo=datetime.UTC).isoformat(timespec="seconds")
        print(
            f"{row['binary']:<15} {row['host']:<12} {'up' if row['up'] else 'DOWN':<4} "
            f"{'disabled' if row['disabled'] else 'enabled':<8} "
            f"last heartbeat {stamp} ({age}, {row['report_count']} reports)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
