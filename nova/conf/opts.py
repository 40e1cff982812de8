"""Entry point of ``oslo-config-generator``: every option module's options.

``etc/nova.conf.sample`` is generated from this list (see
``etc/nova-config-generator.conf``); a unit test fails when it is stale.
"""

from __future__ import annotations

import collections
import importlib
import pkgutil

import nova.conf

_IGNORED = {"opts"}


def _option_modules():
    for info in pkgutil.iter_modules(nova.conf.__path__):
        if info.name not in _IGNORED:
            yield importlib.import_module(f"nova.conf.{info.name}")


def list_opts() -> list[tuple[object, list]]:
    """Return ``[(group, [opts])]`` for every option Nova declares."""
    by_group: dict[object, list] = collections.defaultdict(list)
    # nova.rpc: oslo.messaging's options that Nova registers (transport_url ...).
    for module in [*_option_modules(), importlib.import_module("nova.rpc")]:
        for group, opts in module.list_opts().items():
            by_group[group].extend(opts)
    return sorted(by_group.items(), key=lambda item: str(item[0]))
