"""Bugs the API fuzzer (tests/functional/test_fuzz.py) found, one focused test each."""

from __future__ import annotations

import nova.conf
from nova.api.openstack import router
from tests.fixtures import api as api_fixtures

CONF = nova.conf.CONF


class ServerCreateNumbersTestCase(api_fixtures.APITestCase):
    def test_integral_floats_are_integers(self):
        # JSON Schema takes 2.0 for an integer; the count reached range() as a float (500).
        self.create_server(min_count=2.0, max_count=2.0, flavorRef=1.0, networks="none")
        servers = self.request("GET", "/v2.1/servers/detail").json["servers"]
        self.assertEqual(len(servers), 2)
        self.assertEqual({s["flavor"]["id"] for s in servers}, {"1"})

    def test_counts_above_the_limit_are_refused_and_write_nothing(self):
        # An unbounded max_count made one request create servers for hours.
        CONF.set_override("max_server_count", 3, group="api")
        self.addCleanup(CONF.clear_override, "max_server_count", group="api")
        self.app = router.APIRouter()
        for counts in (
            {"max_count": 4},
            {"min_count": 4},
            {"min_count": 10**9, "max_count": 10**9},
        ):
            response = self.create_server(expect=400, networks="none", **counts)
            self.assertIn("maximum", response.json["badRequest"]["message"])
        self.assertEqual(self.count("instances", live=False), 0)
        self.create_server(max_count=3, networks="none")
        self.assertEqual(self.count("instances"), 3)
