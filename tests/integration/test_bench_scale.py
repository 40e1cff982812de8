"""A scaled-down ``bench/scale.py`` run on SQLite and PostgreSQL: its report's shape and sense.

1,000 and 10,000 instances for the listings, 1 and 100 hosts for the
scheduler (200 placements). Timings are not judged (the machine is shared);
what makes them hold at scale is: every listing reads ``instances`` through
an index in the listing's order (no table scan, no sort) once the table is
large, counts nothing, skips nothing with OFFSET, and runs a fixed number
of statements whatever the size; every placement is made, once, and no
host holds more than its room.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import unittest

from tests.fixtures import databases

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LISTINGS = ("index", "detail", "index_marker", "detail_marker")
SIZES = (1000, 10000)
HOSTS = (1, 100)
PLACEMENTS = 200


class ScaleBenchSmokeTestCase(unittest.TestCase):
    BACKEND = "sqlite"

    def run_bench(self) -> dict:
        environment = dict(os.environ)
        if self.BACKEND == "postgresql":
            url = databases.server_url("postgresql")
            if url is None:
                databases.skip_or_fail(self, "postgresql")
            environment["NOVA_TEST_POSTGRESQL_URL"] = url
        command = [
            sys.executable,
            "bench/scale.py",
            "--parts", "listing,scheduling",
            "--backends", self.BACKEND,
            "--sizes", ",".join(map(str, SIZES)),
            "--requests", "5",
            "--hosts", ",".join(map(str, HOSTS)),
            "--placements", str(PLACEMENTS),
        ]  # fmt: skip
        done = subprocess.run(
            command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=240
        )
        self.assertEqual(done.returncode, 0, done.stderr[-3000:])
        return json.loads(done.stdout)

    def test_scaled_down_run(self):
        report = self.run_bench()
        self.assertEqual(report["benchmark"], "scale")
        self.assertEqual(report["page"], 100)
        self.assertIn("cpus", report["machine"])

        listing = report["listing"][self.BACKEND]
        self.assertEqual([run["instances"] for run in listing["runs"]], list(SIZES))
        statements = {}
        for run in listing["runs"]:
            self.assertGreater(run["fill_s"], 0)
            for name in LISTINGS:
                with self.subTest(instances=run["instances"], listing=name):
                    figures = run[name]
                    self.assertGreater(figures["p50_ms"], 0)
                    self.assertGreaterEqual(figures["p95_ms"], figures["p50_ms"])
                    self.assertFalse(figures["count_star"])
                    self.assertFalse(figures["offset"])
                    self.assertTrue(figures["plans"])  # instances were read, and explained
                    statements.setdefault(name, set()).add(figures["statements"])
                    # PostgreSQL may rightly scan and sort 1,000 rows; not 10,000.
                    if self.BACKEND == "sqlite" or run["instances"] >= 10000:
                        self.assertFalse(figures["full_scan"], figures["plans"])
                        self.assertFalse(figures["sort"], figures["plans"])
        # The same statements at every size: nothing per row.
        for name, counts in statements.items():
            self.assertEqual(len(counts), 1, (name, counts))
        self.assertLessEqual(statements["index"].pop(), 2)
        self.assertLessEqual(statements["detail_marker"].pop(), 4)
        ratios = listing["ratio_largest_to_smallest_p50"]
        self.assertEqual(set(ratios), set(LISTINGS))
        self.assertEqual(listing["goal"]["met"], max(ratios.values()) <= 2.0)

        scheduling = report["scheduling"][self.BACKEND]
        self.assertEqual([run["hosts"] for run in scheduling["runs"]], list(HOSTS))
        for run in scheduling["runs"]:
            with self.subTest(hosts=run["hosts"]):
                self.assertEqual(run["placements"], PLACEMENTS)
                self.assertEqual(run["placed"], PLACEMENTS)
                self.assertEqual(run["not_placed"], 0)
                self.assertEqual(run["casts"], PLACEMENTS)  # each instance cast once
                self.assertEqual(run["hosts_over_committed"], 0)
                self.assertLessEqual(run["most_on_one_host"], run["room_per_host"])
                self.assertGreaterEqual(run["claim_conflicts"], 0)
                self.assertGreater(run["placements_per_s"], 0)
        self.assertEqual(scheduling["runs"][0]["claim_conflicts"], 0)  # one host, room for all
        goal = scheduling["goal"]
        self.assertEqual(goal["hosts"], 100)
        self.assertEqual(goal["met"], scheduling["runs"][-1]["placements_per_s"] >= 200)

        self.assertNotIn("cluster", report)  # not asked for


class ScaleBenchSmokePostgreSQLTestCase(ScaleBenchSmokeTestCase):
    BACKEND = "postgresql"
