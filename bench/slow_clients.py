#!/usr/bin/env python3
"""A normal client's latency beside slow clients, against a real ``nova-all``; prints JSON.

``nova-all`` (embedded Quantum, SQLite, ``test:///default``) is started on
free ports with a temporary state directory. One normal client (a
``requests`` session, keep-alive) sends ``GET /v2.1/flavors`` one after
another for ``--seconds``, first alone, then while ``--tricklers`` clients
each send a request's headers one byte per second (one thread drives them)
and ``--idle`` connections send nothing. Reported for both phases: the
normal client's p50/p99 latency in ms, its request count and errors
(timeouts: ``--timeout``), and how many tricklers the server closed.
Then ``--load-connections`` keep-alive connections send the same GET as fast
as they are answered for ``--load-seconds`` (one thread with a selector):
the API's requests per second with nothing else going on.

``--command`` runs another launcher instead of this virtualenv's
``nova-all`` (e.g. another checkout's, to compare servers).
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import sys
import tempfile

import common  # bench/common.py, beside this script (puts the repository on sys.path)

from tests.fixtures import processes
from tests.fixtures import slow_clients

TOKEN = "admin:demo"


def phase(url: str, seconds: float, timeout: float) -> dict:
    """Return the normal client's latencies over ``seconds``."""
    latencies, errors = slow_clients.timed_gets(
        url, seconds, headers={"X-Auth-Token": TOKEN}, timeout=timeout
    )
    return {
        "p50_ms": round(1000 * (common.percentile(latencies, 0.5) or 0), 1),
        "p99_ms": round(1000 * (common.percentile(latencies, 0.99) or 0), 1),
        "max_ms": round(1000 * max(latencies, default=0), 1),
        "requests": len(latencies),
        "errors": len(errors),
        "first_errors": errors[:3],
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20, help="length of each phase")
    parser.add_argument("--tricklers", type=int, default=100)
    parser.add_argument("--idle", type=int, default=0, help="idle connections beside them")
    parser.add_argument("--timeout", type=float, default=10, help="the normal client's timeout")
    parser.add_argument("--load-connections", type=int, default=8)
    parser.add_argument("--load-seconds", type=float, default=10)
    parser.add_argument("--command", help="launcher instead of the venv's nova-all")
    args = parser.parse_args(argv)

    state = tempfile.mkdtemp(prefix="nova-bench-slow-")
    nova_all = processes.NovaAll(state, program=shlex.split(args.command) if args.command else None)
    try:
        nova_all.start()
        nova_all.wait_ready()
        url = f"{nova_all.api}/flavors"
        alone = phase(url, args.seconds, args.timeout)
        with (
            slow_clients.Tricklers(
                "127.0.0.1", nova_all.api_port, args.tricklers, path="/v2.1/flavors"
            ) as tricklers,
            slow_clients.idle_connections("127.0.0.1", nova_all.api_port, args.idle) as idle,
        ):
            beside = phase(url, args.seconds, args.timeout)
            beside.update(
                tricklers=args.tricklers,
                idle=len(idle),
                tricklers_closed_by_server=tricklers.closed_by_server,
            )
        request = (
            f"GET /v2.1/flavors HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Auth-Token: {TOKEN}\r\n\r\n"
        ).encode()
        load = common.http_load(
            "127.0.0.1", nova_all.api_port, request, args.load_connections, args.load_seconds
        )
        load["connections"] = args.load_connections
        report = {
            "machine": common.machine(),
            "command": args.command or "nova-all",
            "normal_client_alone": alone,
            "normal_client_with_tricklers": beside,
            "get_flavors_throughput": load,
        }
    finally:
        nova_all.close()
        shutil.rmtree(state, ignore_errors=True)
    json.dump(report, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
