"""Pieces every benchmark uses: the machine it ran on, timing loops."""

from __future__ import annotations

import os
import platform
import time


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
