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
