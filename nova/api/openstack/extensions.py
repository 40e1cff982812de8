"""API extensions: loaded from the files of ``[api] extensions_path`` (default: Nova's own).

Each file defines one subclass of ``ExtensionDescriptor`` (name, alias,
namespace, updated, description). An extension may add resources (under
``servers`` for instance), server actions, keys of the server create body
(with their JSON Schema) and keys of the server view. A file that fails to
import, or an alias loaded twice, stops start-up with a message naming the
file.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import inspect
import logging
import os
import sys
from collections.abc import Callable
from collections.abc import Iterable
from typing import Any

from nova import exception

LOG = logging.getLogger(__name__)


class ExtensionLoadError(exception.NovaException):
    msg_fmt = "API extension %(path)s: %(reason)s"


@dataclasses.dataclass
class ResourceExtension:
    """A collection the extension serves, e.g. ``os-virtual-interfaces`` under servers.

    ``controller`` has ``index(request, <parent>_id)`` and/or
    ``show(request, <parent>_id, id)`` methods.
    """

    collection: str
    controller: Any
    parent: str | None = "servers"


class ExtensionDescriptor:
    """Base of every extension; subclasses override what they provide."""

    name = ""
    alias = ""
    namespace = ""
    updated = ""
    description = ""

    #: The compute API (``nova.compute.api.API``), set by the router before
    #: it asks for resources or actions.
    compute_api: Any = None

    def get_resources(self) -> list[ResourceExtension]:
        """Return the collections this extension adds."""
        return []

    def get_server_actions(self) -> dict[str, Callable]:
        """Return ``{action name: handler(request, server_id, body)}`` for servers."""
        return {}

    def get_server_action_schemas(self) -> dict[str, dict]:
        """Return the JSON Schema of the argument of each server action (for the description)."""
        return {}

    def get_server_create_schema(self) -> dict[str, dict]:
        """Return the JSON Schema of each key this extension adds to a server create body."""
        return {}

    def get_server_create_kwargs(self, server: dict) -> dict[str, Any]:
        """Return arguments for ``compute.api.API.create`` from a validated create body."""
        return {}

    def extend_server_view(self, request, instance, view: dict) -> None:
        """Add this extension's keys to a server's view."""

    def to_dict(self) -> dict[str, Any]:
        """Return the extension's entry in ``GET /extensions``."""
        return {
            "name": self.name,
            "alias": self.alias,
            "namespace": self.namespace,
            "updated": self.updated,
            "description": self.description,
            "links": [],
        }


def _load_file(path: str) -> list[ExtensionDescriptor]:
    stem = os.path.splitext(os.path.basename(path))[0]
    module_name = f"nova_api_extensions.{stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ExtensionLoadError(path=path, reason="cannot be loaded as Python")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001 - any import failure stops start-up
        sys.modules.pop(module_name, None)
        raise ExtensionLoadError(path=path, reason=f"failed to import: {exc!r}") from exc
    found = [
        cls()
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, ExtensionDescriptor)
        and cls is not ExtensionDescriptor
        and cls.__module__ == module_name
    ]
    if not found:
        raise ExtensionLoadError(path=path, reason="defines no ExtensionDescriptor")
    for extension in found:
        if not (extension.name and extension.alias):
            raise ExtensionLoadError(path=path, reason="an extension needs a name and an alias")
    return found


#: The package of the extensions shipped with Nova.
SHIPPED_PACKAGE = "api_extensions"


def shipped_path() -> str:
    """Return the directory of the extensions installed with Nova (not imported here)."""
    spec = importlib.util.find_spec(SHIPPED_PACKAGE)
    if spec is None or spec.origin is None:
        raise ExtensionLoadError(path=SHIPPED_PACKAGE, reason="is not installed")
    return os.path.dirname(os.path.abspath(spec.origin))


def configured_paths(paths: Iterable[str]) -> list[str]:
    """Return the directories of ``[api] extensions_path``: the shipped one when it is empty."""
    return list(paths) or [shipped_path()]


class ExtensionManager:
    """The loaded extensions, by alias, in load order."""

    def __init__(self, paths: Iterable[str]) -> None:
        self.extensions: dict[str, ExtensionDescriptor] = {}
        self._files: dict[str, str] = {}
        for directory in paths:
            if not os.path.isdir(directory):
                raise ExtensionLoadError(path=directory, reason="is not a directory")
            for filename in sorted(os.listdir(directory)):
                if filename.startswith("_") or not filename.endswith(".py"):
                    continue
                path = os.path.join(directory, filename)
                for extension in _load_file(path):
                    self._add(extension, path)

    def _add(self, extension: ExtensionDescriptor, path: str) -> None:
        if extension.alias in self.extensions:
            raise ExtensionLoadError(
                path=path,
                reason=f"alias {extension.alias!r} is already loaded from "
                f"{self._files[extension.alias]}",
            )
        self.extensions[extension.alias] = extension
        self._files[extension.alias] = path
        LOG.info("Loaded API extension %s (%s) from %s", extension.alias, extension.name, path)

    def __iter__(self):
        return iter(self.extensions.values())

    def server_create_schema(self) -> dict[str, dict]:
        """Return every extension's server create keys."""
        properties: dict[str, dict] = {}
        for extension in self:
            properties.update(extension.get_server_create_schema())
        return properties

    def server_actions(self) -> dict[str, Callable]:
        """Return every extension's server actions."""
        actions: dict[str, Callable] = {}
        for extension in self:
            actions.update(extension.get_server_actions())
        return actions

    def server_action_schemas(self) -> dict[str, dict]:
        """Return the argument schema of every server action (``{}``: undeclared)."""
        schemas: dict[str, dict] = {}
        for extension in self:
            declared = extension.get_server_action_schemas()
            for name in extension.get_server_actions():
                schemas[name] = declared.get(name, {})
        return schemas
