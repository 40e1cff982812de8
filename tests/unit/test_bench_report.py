"""bench/report.py: the README table and its markers come from the report alone."""

from __future__ import annotations

import importlib.util
import os
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _load_report_module():
    spec = importlib.util.spec_from_file_location("bench_report", f"{ROOT}/bench/report.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


report = _load_report_module()

MACHINE = {"platform": "Linux-x", "cpus": 2, "python": "3.11.7"}
RESULTS = {
    "api": {
        "machine": MACHINE,
        "show": {"nova_rps": 2400, "baseline_rps": 4000, "ratio": 0.6},
        "detail": {"servers": 50, "nova_rps": 100, "baseline_rps": 250, "ratio": 0.4},
        "virtual_interfaces": {"vifs": 8, "nova_rps": 3000, "baseline_rps": 5000, "ratio": 0.6},
        "goal": {"min_ratio": 0.5, "met": False},
    },
    "launch": {
        "machine": MACHINE,
        "servers_per_s": 51.2,
        "p50_s": 1.5,
        "p95_s": 2.5,
        "baseline_per_s": 80.0,
        "ratio": 0.64,
        "active": 200,
        "nova_all": {"runs_servers_per_s": [47.9, 51.2, 55.0]},
        "goal": {"min_servers_per_s": 50.0, "all_active": True, "met": True},
    },
}


class ReportTestCase(unittest.TestCase):
    def test_rows_carry_the_figures_and_the_verdicts(self):
        rows = {row[0]: row for row in report.table_rows(RESULTS)}
        show = rows["`GET /servers/{id}`"]
        self.assertEqual(show[1], "2,400/s")
        self.assertEqual(show[3], "**0.60**")
        self.assertTrue(show[4].endswith("✓"))
        self.assertTrue(rows["`GET /servers/detail`, 50 servers"][4].endswith("✗"))
        launch = rows["`nova-all`, 200 servers × 2 VIFs, define → ACTIVE"]
        self.assertIn("51.2 servers/s", launch[1])
        self.assertIn("runs 47.9, 51.2, 55.0", launch[1])  # the median run and the spread
        self.assertTrue(launch[4].endswith("✓"))

    def test_readme_section_between_markers_is_replaced(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "README.md")
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(f"intro\n{report.START}\nold table\n{report.END}\nafter\n")
            report.update_readme(path, report.table(RESULTS))
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
        self.assertNotIn("old table", text)
        self.assertTrue(text.startswith("intro\n") and text.endswith("after\n"))
        self.assertIn("2 CPUs, Linux-x, python 3.11.7", text)

    def test_readme_without_markers_is_refused(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "README.md")
            with open(path, "w", encoding="utf-8") as handle:
                handle.write("no markers\n")
            with self.assertRaises(SystemExit):
                report.update_readme(path, "table")
