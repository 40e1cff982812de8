#!/usr/bin/env python3
"""Candidate WSGI servers side by side on a small app: throughput and slow-client immunity.

Each candidate serves the same tiny WSGI app (a 2-byte JSON body) in a
process of its own on a free loopback port, with ``--threads`` threads
running the app:

* ``waitress``: ``servicekit.wsgi.WSGIServer`` (waitress 3 with this
  project's limits), the server of nova-all and quantum-server;
* ``cheroot``: ``cheroot.wsgi.Server`` as nova-all ran it before (a thread
  per request, reading the request in that thread), if cheroot is installed;
* ``granian``: the Rust server's WSGI interface, one worker process, if a
  ``granian`` command is given (``--granian PATH``) or on PATH.

For each: requests per second of ``GET /`` on ``--connections`` keep-alive
connections for ``--seconds`` (one client thread with a selector, so the
client costs little of the 2 cores), then a normal client's latency p50/p99
for ``--seconds`` while ``--tricklers`` connections send a request's
headers one byte per second (errors: its requests that timed out after
``--timeout`` seconds). Prints one JSON document.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

import common  # bench/common.py, beside this script (puts the repository on sys.path)

HERE = os.path.dirname(os.path.abspath(__file__))


def app(environ, start_response):
    """Answer every request with a small JSON body."""
    environ["wsgi.input"].read()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "2")])
    return [b"{}"]


def serve(candidate: str, port: int, threads: int) -> None:
    """Serve ``app`` with ``candidate`` on ``port`` until killed (the child process)."""
    if candidate == "waitress":
        from servicekit import wsgi

        wsgi.WSGIServer(app, "127.0.0.1", port, threads=threads).serve_forever()
    elif candidate == "cheroot":
        import socket

        from cheroot import wsgi as cheroot_wsgi

        server = cheroot_wsgi.Server(
            ("127.0.0.1", port), app, numthreads=threads, request_queue_size=socket.SOMAXCONN
        )
        server.safe_start()


def start(candidate: str, port: int, threads: int, granian: str | None) -> subprocess.Popen:
    """Start ``candidate`` serving ``app`` on ``port``; return its process once it answers."""
    if candidate == "granian":
        args = [
            granian or "granian",
            "--interface",
            "wsgi",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--blocking-threads",
            str(threads),
            "--no-ws",
            "--log-level",
            "warning",
            "--working-dir",
            HERE,
            "servers:app",
        ]
    else:
        args = [sys.executable, __file__, "--serve", candidate, "--port", str(port)]
        args += ["--threads", str(threads)]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    from tests.fixtures import slow_clients

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        latencies, _ = slow_clients.timed_gets(f"http://127.0.0.1:{port}/", 0.01, timeout=1)
        if latencies:
            return process
        if process.poll() is not None:
            raise RuntimeError(f"{candidate} exited: {process.stderr.read().decode()[-2000:]}")
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"{candidate} did not answer")


def available(candidate: str, granian: str | None) -> bool:
    if candidate == "granian":
        return bool(granian or shutil.which("granian"))
    if candidate == "cheroot":
        try:
            import cheroot  # noqa: F401
        except ImportError:
            return False
    return True


def measure(candidate: str, args) -> dict:
    from tests.fixtures import processes
    from tests.fixtures import slow_clients

    port = processes.free_port()
    process = start(candidate, port, args.threads, args.granian)
    try:
        request = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        load = common.http_load("127.0.0.1", port, request, args.connections, args.seconds)
        with slow_clients.Tricklers("127.0.0.1", port, args.tricklers) as tricklers:
            latencies, errors = slow_clients.timed_gets(
                f"http://127.0.0.1:{port}/", args.seconds, timeout=args.timeout
            )
        return {
            "get_throughput": load,
            "normal_client_with_tricklers": {
                "tricklers": args.tricklers,
                "p50_ms": round(1000 * (common.percentile(latencies, 0.5) or 0), 2),
                "p99_ms": round(1000 * (common.percentile(latencies, 0.99) or 0), 2),
                "requests": len(latencies),
                "errors": len(errors),
                "tricklers_closed_by_server": tricklers.closed_by_server,
            },
        }
    finally:
        process.kill()
        process.wait(timeout=10)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", default="waitress,cheroot,granian")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--tricklers", type=int, default=100)
    parser.add_argument("--timeout", type=float, default=5)
    parser.add_argument("--granian", help="the granian command (default: on PATH)")
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve, args.port, args.threads)
        return 0
    report: dict = {"machine": common.machine(), "threads": args.threads, "candidates": {}}
    for candidate in args.candidates.split(","):
        if not available(candidate, args.granian):
            report["candidates"][candidate] = "not installed"
            continue
        report["candidates"][candidate] = measure(candidate, args)
    json.dump(report, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
