"""Small helpers shared across Nova."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


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
