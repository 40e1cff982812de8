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


def _listing_run(instances: int, p50: float, scan: bool = False) -> dict:
    figures = {"p50_ms": p50, "p95_ms": p50 * 2, "full_scan": scan, "sort": False}
    return {"instances": instances, **{name: dict(figures) for name in report.LISTINGS}}


SCALE = {
    "machine": {**MACHINE, "sqlite": "3.40.1"},
    "page": 100,
    "listing": {
        "requests": 30,
        "sqlite": {
            "runs": [_listing_run(1000, 1.5), _listing_run(100000, 2.25)],
            "ratio_largest_to_smallest_p50": dict.fromkeys(report.LISTINGS, 1.5),
            "goal": {"max_ratio": 2.0, "met": True},
        },
    },
    "scheduling": {
        "sqlite": {
            "runs": [
                {"hosts": 1, "placements_per_s": 900.0, "placed": 2000, "claim_conflicts": 0},
                {"hosts": 1000, "placements_per_s": 250.4, "placed": 2000, "claim_conflicts": 9},
            ],
            "goal": {"min_placements_per_s": 200.0, "hosts": 1000, "met": True},
        }
    },
    "cluster": {
        "runs": [
            {
                "computes": 1,
                "servers": 300,
                "active": 300,
                "seconds": 6.0,
                "servers_per_s": 50.0,
                "machine_busy": 0.97,
                "cpu_s": {
                    "nova-api": 1.0,
                    "nova-api/1": 2.0,
                    "nova-scheduler": 3.0,
                    "nova-compute-1": 4.5,
                    "quantum-server": 0.0,
                },
                "rss_idle_kib": {"nova-api": 102400, "nova-compute-1": 131072},
                "rss_after_kib": {"nova-api": 153600, "nova-compute-1": 141312},
                "memory_run": {"active": 700},
            }
        ],
        "goal": {"min_speedup_2_over_1": 1.5, "speedup": 1.0, "met": False},
    },
    "before": {
        "listing": {"sqlite": {"runs": [_listing_run(100000, 244.0, scan=True)]}},
        "scheduling": {"sqlite": {"runs": [{"hosts": 1000, "placements_per_s": 24.4}]}},
    },
}


class ScaleReportTestCase(unittest.TestCase):
    def test_tables_carry_the_figures_the_before_and_the_verdicts(self):
        text = report.scale_table(SCALE)
        lines = text.splitlines()
        largest = next(line for line in lines if line.startswith("| 100,000 | sqlite"))
        self.assertIn("2.25 (4.50)", largest)
        self.assertIn("244.0, 244.0", largest)  # the figures before the fixes
        self.assertTrue(largest.endswith("| index, no sort |"))
        ratio = next(line for line in lines if line.startswith("| largest / smallest"))
        self.assertIn("**1.50**", ratio)
        self.assertTrue(ratio.endswith("✓ |"))
        self.assertIn("| 1,000 | sqlite | 250 (2,000 placed) | 9 | 24 | ≥ 200/s ✓ |", lines)
        # CPU per server of each kind of process (nova-api with its workers).
        self.assertIn("| 1 | 300/300 in 6.0 s | 50.0 | 97% | 10, 10, 15, 0 |", lines)
        self.assertIn("2 computes / 1: **1.00** (goal ≥ 1.5) ✗", lines)
        self.assertIn(
            "| process (1 computes) | RSS idle (MiB) | RSS after 1,000 servers (MiB) |", lines
        )
        self.assertIn("| nova-api | 100 | 150 |", lines)
        self.assertIn("![scale](bench/scale.png)", lines)

    def test_scale_section_has_its_own_markers(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "README.md")
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(
                    f"{report.START}\nbench\n{report.END}\n"
                    f"{report.SCALE_START}\nold\n{report.SCALE_END}\n"
                )
            report.update_readme(
                path, report.scale_table(SCALE), report.SCALE_START, report.SCALE_END
            )
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
        self.assertIn(f"{report.START}\nbench\n{report.END}", text)  # untouched
        self.assertNotIn("\nold\n", text)
        self.assertIn("| 1 | sqlite | 900", text)
