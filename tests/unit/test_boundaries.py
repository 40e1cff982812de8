"""Package boundaries: imports that would run against the architecture's direction."""

from __future__ import annotations

import ast
import pathlib
import unittest

ROOT = pathlib.Path(__file__).resolve().parents[2]

#: Directory -> the modules (and their submodules) nothing in it may import.
FORBIDDEN = {
    # A separate service, and the plumbing both services share.
    "quantum": ("nova",),
    "servicekit": ("nova", "quantum"),
    # The scheduler imports compute's rpcapi: compute must not import its manager.
    "nova/compute": ("nova.scheduler.manager",),
    # Options are declared, not computed from the code they configure.
    "nova/conf": ("api_extensions", "nova.api"),
    # The REST layer reads through compute.api.
    "nova/api/openstack/compute": ("nova.db",),
}


def imported_modules(source: str) -> set[tuple[int, str]]:
    """Return ``(line, dotted name)`` of every absolute import in a module's source.

    ``from a.b import c`` yields ``a.b.c`` (``c`` may be a module).
    """
    found: set[tuple[int, str]] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.update((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)
    return found


def crosses(name: str, forbidden: tuple[str, ...]) -> bool:
    """Return whether module ``name`` is one of ``forbidden`` or inside one."""
    return any(name == module or name.startswith(module + ".") for module in forbidden)


class BoundariesTestCase(unittest.TestCase):
    def test_no_import_crosses_a_boundary(self):
        for directory, forbidden in FORBIDDEN.items():
            modules = sorted((ROOT / directory).rglob("*.py"))
            self.assertTrue(modules, directory)
            for module in modules:
                with self.subTest(module=str(module.relative_to(ROOT))):
                    crossings = [
                        f"line {line}: {name}"
                        for line, name in sorted(imported_modules(module.read_text("utf-8")))
                        if crosses(name, forbidden)
                    ]
                    self.assertEqual(crossings, [])

    def test_the_check_sees_imports_anywhere(self):
        """An import inside a function counts as one at the top; relative ones stay inside."""
        source = (
            "import os.path\n"
            "from . import sibling\n"
            "def f():\n"
            "    from nova.db import api\n"
            "    import quantum.server as server\n"
        )
        self.assertEqual(
            imported_modules(source), {(1, "os.path"), (4, "nova.db.api"), (5, "quantum.server")}
        )
        self.assertTrue(crosses("nova.db.api", ("nova.db",)))
        self.assertFalse(crosses("nova.dbx", ("nova.db",)))
