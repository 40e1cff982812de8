"""Plugins by alias (a stevedore entry point) or by import path, for Nova and Quantum alike."""

from __future__ import annotations

from importlib import metadata
from typing import Any

from oslo_utils import importutils
from stevedore import driver
from stevedore import exception as stevedore_exception


class PluginNotFound(LookupError):
    """No plugin by that alias or import path, or not of the kind asked for."""


def find(namespace: str, name: str, base: type | None = None, import_path: bool = True) -> Any:
    """Return the plugin (a class, usually) ``name`` names in ``namespace``, imported.

    ``name`` is an alias, an entry point of ``namespace`` declared in
    ``setup.py``, or else an import path: ``package.module:Class`` or
    ``package.module.Class``.

    :param base: when given, the plugin must be a subclass of it.
    :param import_path: False accepts aliases only (``name`` comes from
        data, not from the operator's configuration).
    :raises PluginNotFound: no such alias or import path, or not a ``base``.
    """
    plugin: Any
    try:
        plugin = driver.DriverManager(namespace, name, on_missing_entrypoints_callback=None).driver
    except stevedore_exception.NoMatches:
        if not import_path:
            raise PluginNotFound(name) from None
        try:
            plugin = importutils.import_class(name.replace(":", "."))
        except (ImportError, ValueError) as exc:
            raise PluginNotFound(name) from exc
    if base is not None and not (isinstance(plugin, type) and issubclass(plugin, base)):
        raise PluginNotFound(name)
    return plugin


def names(namespace: str) -> list[str]:
    """Return the aliases declared in ``namespace``, sorted (nothing is imported)."""
    return sorted({entry.name for entry in metadata.entry_points(group=namespace)})
