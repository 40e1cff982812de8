"""Package boundaries: Quantum is a separate service, servicekit serves both."""

from __future__ import annotations

import ast
import pathlib
import unittest

ROOT = pathlib.Path(__file__).resolve().parents[2]

#: Package -> the top-level packages its modules must not import.
FORBIDDEN = {
    "quantum": {"nova"},
    "servicekit": {"nova", "quantum"},
}


def imported_packages(source: str) -> set[tuple[int, str]]:
    """Return ``(line, top-level package)`` of every absolute import in a module's source."""
    found: set[tuple[int, str]] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update((node.lineno, alias.name.partition(".")[0]) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add((node.lineno, node.module.partition(".")[0]))
    return found


class BoundariesTestCase(unittest.TestCase):
    def test_no_import_crosses_a_boundary(self):
        for package, forbidden in FORBIDDEN.items():
            modules = sorted((ROOT / package).rglob("*.py"))
            self.assertTrue(modules, package)
            for module in modules:
                with self.subTest(module=str(module.relative_to(ROOT))):
                    crossings = [
                        f"line {line}: {name}"
                        for line, name in sorted(imported_packages(module.read_text("utf-8")))
                        if name in forbidden
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
        self.assertEqual(imported_packages(source), {(1, "os"), (4, "nova"), (5, "quantum")})
