"""Small helpers shared across Nova."""

from __future__ import annotations

import datetime
import functools
import secrets
from collections.abc import Callable
from typing import Any

from nova import exception
from servicekit import plugins


class LazyDependency:
    """An attribute made by ``factory`` on first use, unless one was given.

    ``network = LazyDependency(network_api.get_api)`` on a class reads
    ``self._network`` (set by ``__init__``, possibly None) and fills it in
    when None, so building the object costs nothing it does not use.
    """

    def __init__(self, factory: Callable[[], Any]) -> None:
        self.factory = factory
        self.attribute = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.attribute = f"_{name}"

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        value = getattr(instance, self.attribute, None)
        if value is None:
            value = self.factory()
            setattr(instance, self.attribute, value)
        return value


@functools.cache
def load_plugin(
    namespace: str, name: str, base: type | None = None, import_path: bool = True
) -> Any:
    """Return the plugin (a class, usually) ``name`` names in ``namespace``, imported.

    ``name`` is an alias, an entry point of ``namespace`` declared in
    ``setup.py``, or else an import path: ``package.module:Class`` or
    ``package.module.Class``. Each is looked up once per process.

    :param namespace: the entry-point group (``nova.virt.drivers`` ...).
    :param base: when given, the plugin must be a subclass of it.
    :param import_path: False accepts aliases only (``name`` comes from
        data, not from the operator's configuration).
    :raises nova.exception.PluginNotFound: no such alias or import path,
        or not a ``base``.
    """
    try:
        return plugins.find(namespace, name, base, import_path)
    except plugins.PluginNotFound as exc:
        raise exception.PluginNotFound(
            kind=namespace, name=name, known=", ".join(plugin_names(namespace))
        ) from exc


def plugin_names(namespace: str) -> list[str]:
    """Return the aliases declared in ``namespace``, sorted (nothing is imported)."""
    return plugins.names(namespace)


def parse_isotime(value: str) -> datetime.datetime:
    """Return the ISO 8601 date and time ``value`` as a naive UTC datetime (as stored).

    What Nova's API accepts: ``2026-11-22T01:02:03Z``, an offset
    (``+01:00``, ``+0100``), fractional seconds, a space for the ``T``, a
    date alone (midnight); a time without an offset is UTC.

    :raises ValueError: ``value`` is not such a time, or is out of range once in UTC.
    """
    try:
        # fromisoformat knows the upper-case designators only (RFC 3339 allows "t", "z").
        parsed = datetime.datetime.fromisoformat(value.upper())
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(datetime.UTC).replace(tzinfo=None)
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"{value!r} is not an ISO 8601 date and time: {exc}") from exc
    return parsed


# Nova's password alphabet: no characters easily taken for others (0/O, 1/l/I).
_PASSWORD_SYMBOLS = (
    "23456789",
    "ABCDEFGHJKLMNPQRSTUVWXYZ",
    "abcdefghijkmnopqrstuvwxyz",
)


def generate_password(length: int = 12) -> str:
    """Return a random password of ``length`` characters (at least one of each group), as Nova's."""
    alphabet = "".join(_PASSWORD_SYMBOLS)
    chosen = [secrets.choice(group) for group in _PASSWORD_SYMBOLS]
    chosen += [secrets.choice(alphabet) for _ in range(max(length - len(chosen), 0))]
    secrets.SystemRandom().shuffle(chosen)
    return "".join(chosen[:length])
