"""Pieces every benchmark uses: the machine it ran on, timing loops."""

from __future__ import annotations

import cProfile
import os
import platform
import sys
import time

# The benchmarks run as ``python bench/NAME.py`` from the repository, with
# bench/ on sys.path: the repository goes there too, for ``tests.fixtures``.
REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPOSITORY not in sys.path:
    sys.path.insert(1, REPOSITORY)


def machine(**versions: object) -> dict:
    """Return the platform, CPU count and Python version, plus ``versions``."""
    return {
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        **versions,
    }


def rate(function, seconds: float, items_per_call: int = 1) -> float:
    """Return items per second of ``function()``, called for about ``seconds``."""
    calls = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(10):
            function()
        calls += 10
        now = time.perf_counter()
        if now >= deadline:
            return calls * items_per_call / (now - start)


def profiled(function, seconds: float) -> tuple[cProfile.Profile, int]:
    """Call ``function()`` under cProfile for about ``seconds``; return the profile and calls."""
    profiler = cProfile.Profile()
    calls = 0
    profiler.enable()
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        function()
        calls += 1
    profiler.disable()
    return profiler, calls


def percentile(values: list[float], fraction: float) -> float | None:
    """Return the ``fraction`` quantile of ``values`` (nearest rank above), None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def http_load(host: str, port: int, request: bytes, connections: int, seconds: float) -> dict:
    """Send ``request`` again and again on ``connections`` keep-alive connections.

    One thread drives every connection through a selector (a client of
    threads would cost more CPU than the server it measures on 2 cores):
    each connection sends the request, reads the answer (by its
    ``Content-Length``), and sends it again, for ``seconds``. Returns
    requests per second, latency p50/p99 in ms, and the count of non-200
    answers and of connections the server closed.
    """
    import selectors
    import socket

    selector = selectors.DefaultSelector()
    latencies: list[float] = []
    state: dict[socket.socket, list] = {}  # sock: [sent at, buffer]
    not_ok = closed = 0

    def send(sock: socket.socket) -> None:
        state[sock] = [time.perf_counter(), b""]
        sock.sendall(request)

    for _ in range(connections):
        sock = socket.create_connection((host, port), timeout=10)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        selector.register(sock, selectors.EVENT_READ)
        send(sock)
    start = time.perf_counter()
    deadline = start + seconds
    while state and time.perf_counter() < deadline:
        for key, _ in selector.select(timeout=1):
            sock = key.fileobj
            data = sock.recv(65536)
            if not data:
                closed += 1
                selector.unregister(sock)
                del state[sock]
                sock.close()
                continue
            entry = state[sock]
            entry[1] += data
            head, separator, body = entry[1].partition(b"\r\n\r\n")
            if not separator:
                continue
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(body) < length:
                continue
            latencies.append(time.perf_counter() - entry[0])
            if not head.startswith((b"HTTP/1.1 200", b"HTTP/1.0 200")):
                not_ok += 1
            send(sock)
    elapsed = time.perf_counter() - start
    for sock in state:
        sock.close()
    selector.close()
    return {
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(1000 * (percentile(latencies, 0.5) or 0), 2),
        "p99_ms": round(1000 * (percentile(latencies, 0.99) or 0), 2),
        "requests": len(latencies),
        "not_200": not_ok,
        "closed_by_server": closed,
    }
