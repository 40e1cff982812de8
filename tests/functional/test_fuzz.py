"""Property-based fuzzing of the compute API of a real ``nova-all``, from its OpenAPI description.

Schemathesis turns ``/v2.1/openapi.json`` into Hypothesis strategies; each
example is one request: an operation, valid (positive) or schema-violating
(negative) parameters and body, and a token (mostly a valid ``user:project``
of noauth2 so requests reach the handlers, sometimes another project's, an
admin's, none or a malformed one). Path parameters often name a server or
VIF that exists, and the project segment often names the caller's project.

What must hold, request by request:

* no 5xx answer (but a 501 where the description lists it);
* a request that is rejected (4xx), or only reads, writes nothing: the
  tables of the SQLite databases of Nova and of the embedded Quantum are
  the same after it as before (a write is seen through SQLite's
  ``data_version``; the rows are then compared, so a write that was undone
  before the answer does not count). Heartbeats are turned off and every
  accepted write is waited for until the cloud is quiet, so the only
  writer during a request is that request;

and at the end the cloud still defines, launches, shows and deletes a
server. Failures are collected (with a curl command each) and reported
together, so one run shows them all.

``test_fuzz_the_api`` makes 1,000 requests, and ``test_fuzz_the_api_long``
(marked ``long``: ``./run_tests.sh --long`` and ``.ci/run`` run it) 10,000;
``NOVA_FUZZ_REQUESTS`` sets the number of requests of both,
``NOVA_FUZZ_SEED`` the seed (default fixed, so a run can be repeated), and
``NOVA_FUZZ_REPORT`` a file to write the figures to as JSON.
"""

from __future__ import annotations

import collections
import json
import os
import sqlite3
import time
import uuid

import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import strategies as st
from schemathesis.specs.openapi import checks as openapi_checks

from tests.functional import test_nova_all

REQUESTS = os.environ.get("NOVA_FUZZ_REQUESTS")
SEED = int(os.environ.get("NOVA_FUZZ_SEED", "20111"))
REPORT = os.environ.get("NOVA_FUZZ_REPORT")

USER = "alice:demo"
# Tokens and how often each is drawn (None: no X-Auth-Token header).
TOKENS = [USER] * 14 + ["bob:other", "admin:demo", None, "", ":", ":demo", "demo:", "a:b:c"]
# The answer is one the description lists, with the content type and body
# (Nova's fault, for errors) it gives.
CONFORMANCE_CHECKS = [
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
]
SETTLE_TIMEOUT = 60
SETTLE_POLL = 0.02  # seconds between two looks at a settling cloud
MAX_REPORTED_FAILURES = 20


class Databases:
    """Read-only views of the cloud's SQLite databases: their rows and their write counters."""

    def __init__(self, paths: dict[str, str]) -> None:
        self.connections = {
            name: sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
            for name, path in paths.items()
        }

    def close(self) -> None:
        for connection in self.connections.values():
            connection.close()

    def versions(self) -> dict[str, int]:
        """Return each database's ``data_version``: it changes when another connection commits."""
        return {
            name: connection.execute("PRAGMA data_version").fetchone()[0]
            for name, connection in self.connections.items()
        }

    def rows(self) -> dict[str, list[tuple]]:
        """Return every row of every table (``sqlite_sequence`` aside), in rowid order."""
        rows = {}
        for name, connection in self.connections.items():
            tables = connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'sqlite_sequence'"
            ).fetchall()
            for (table,) in tables:
                rows[f"{name}.{table}"] = connection.execute(
                    f'SELECT * FROM "{table}" ORDER BY rowid'
                ).fetchall()
        return rows

    def busy(self) -> int:
        """Return how many live servers are still being built, scheduled or deleted."""
        return (
            self.connections["nova"]
            .execute(
                "SELECT COUNT(*) FROM instances WHERE deleted = 0 "
                "AND (vm_state = 'building' OR task_state IS NOT NULL)"
            )
            .fetchone()[0]
        )


def changed_tables(before: dict[str, list[tuple]], after: dict[str, list[tuple]]) -> list[str]:
    """Return the tables whose rows differ, with how many rows each had and has."""
    return [
        f"{table} ({len(before.get(table, []))} -> {len(after.get(table, []))} rows)"
        for table in sorted(set(before) | set(after))
        if before.get(table) != after.get(table)
    ]


class FuzzTestCase(test_nova_all.NovaAllFixture):
    # No heartbeats during the run: the requests are the only writers. Few
    # servers per create, so that accepted creates stay quick.
    extra_config = (
        "report_interval = 86400\nservice_down_time = 172800\n[api]\nmax_server_count = 3\n"
    )

    def setUp(self) -> None:
        super().setUp()
        self.root = self.api.removesuffix("/v2.1")
        self.session = requests.Session()
        self.session.trust_env = False
        self.addCleanup(self.session.close)
        self.databases = Databases(
            {
                "nova": os.path.join(self.state, "nova.sqlite"),
                "quantum": os.path.join(self.state, "quantum.sqlite"),
            }
        )
        self.addCleanup(self.databases.close)
        self.servers, self.vifs = self.seed()
        self.assertTrue(self.settle(), "the seed servers did not settle")

    def seed(self) -> tuple[list[str], list[str]]:
        """Make networks, ports and servers (defined and launched) for requests to find."""
        admin = "admin:demo"
        networks = [
            self.send("POST", f"{self.quantum}/networks", {"network": {"name": name}}, admin)[
                "network"
            ]["id"]
            for name in ("lb", "web")
        ]
        ports = [
            self.send("POST", f"{self.quantum}/networks/{networks[1]}/ports", token=admin)["port"][
                "id"
            ]
            for _ in range(4)
        ]
        self.networks, self.ports = networks, ports
        servers = []
        for index, (networks_value, launch) in enumerate(
            [
                ([{"uuid": networks[0]}, {"port": ports[0]}], False),
                ("auto", False),
                ("auto", True),
                ("none", True),
            ]
        ):
            body = {
                "server": {
                    "name": f"seed{index}",
                    "imageRef": "cirros",
                    "flavorRef": "1",
                    "networks": networks_value,
                    "launch": launch,
                }
            }
            servers.append(self.send("POST", f"{self.api}/servers", body)["server"]["id"])
        vifs = [
            vif["id"]
            for server_id in servers
            for vif in self.get(f"{self.api}/servers/{server_id}/os-virtual-interfaces").json()[
                "virtual_interfaces"
            ]
        ]
        return servers, vifs

    def settle(self) -> bool:
        """Wait until no server is in flight and the databases stopped changing; tell if so."""
        deadline = time.monotonic() + SETTLE_TIMEOUT
        previous = None
        while time.monotonic() < deadline:
            versions = self.databases.versions()
            if versions == previous and not self.databases.busy():
                return True
            previous = versions
            time.sleep(SETTLE_POLL)
        return False

    # --- the run -----------------------------------------------------------------------

    def strategies(self):
        """Return a strategy of schemathesis cases over every operation, both modes."""
        schema = schemathesis.openapi.from_url(f"{self.api}/openapi.json")
        choices = []
        for result in schema.get_all_operations():
            operation = result.ok()
            definition = operation.definition.raw
            modes = [schemathesis.GenerationMode.POSITIVE]
            # An operation with nothing a client sends has no invalid form.
            if (
                definition.get("parameters")
                or "requestBody" in definition
                or "security" not in definition
            ):
                modes.append(schemathesis.GenerationMode.NEGATIVE)
            choices.extend(operation.as_strategy(generation_mode=mode) for mode in modes)
        return st.one_of(choices)

    def steer_create(self, body, data) -> None:
        """Often name a flavor, networks and ports that exist, so creates get past the lookups."""
        server = body.get("server") if isinstance(body, dict) else None
        if not isinstance(server, dict):
            return
        if "flavorRef" in server and data.draw(st.integers(0, 4)) < 4:
            server["flavorRef"] = data.draw(st.sampled_from(["1", "2", "5", 1, 3]))
        networks = server.get("networks")
        for entry in networks if isinstance(networks, list) else ():
            if not isinstance(entry, dict):
                continue
            for key, known in (("uuid", self.networks), ("port", self.ports)):
                if key in entry and data.draw(st.integers(0, 3)) < 3:
                    entry[key] = data.draw(st.sampled_from(known))

    def draw_request(self, case, data) -> None:
        """Give ``case`` a token, and often a project, server, VIF, flavor that exist."""
        token = data.draw(st.sampled_from(TOKENS), label="token")
        headers = {k: v for k, v in (case.headers or {}).items() if k != "X-Auth-Token"}
        if token is not None:
            headers["X-Auth-Token"] = token
        case.headers = headers
        parameters = case.path_parameters or {}
        if "project_id" in parameters and data.draw(st.integers(0, 9)) < 8:
            user, _, project = (token or "alice:demo").partition(":")
            parameters["project_id"] = project or user  # as noauth2 reads the token
        if "server_id" in parameters and data.draw(st.integers(0, 3)) < 3:
            # The pool grows: an index, not sampled_from, keeps the draws alike.
            index = data.draw(st.integers(0, 1 << 16))
            parameters["server_id"] = self.servers[index % len(self.servers)]
        if "id" in parameters and data.draw(st.integers(0, 3)) < 3:
            parameters["id"] = data.draw(st.sampled_from(self.vifs))
        self.steer_admin(case, parameters, token, data)
        if case.method == "POST" and case.path.endswith("/servers"):
            self.steer_create(case.body, data)

    def steer_admin(self, case, parameters, token, data) -> None:
        """Often name a flavor, service action or hypervisor that exists.

        Flavor 1 is never deleted and no service ever is by an admin (the
        token becomes a user's: 403), so the cloud can still make the
        server of ``check_still_serving``; a disabled service needs its
        host, which the fuzzer does not know.
        """
        if "flavor_id" in parameters and data.draw(st.integers(0, 3)) < 3:
            deleting = case.method == "DELETE" and "os-extra_specs" not in case.path
            parameters["flavor_id"] = data.draw(
                st.sampled_from(["1", "2", "3", "4", "5"][deleting:])
            )
        if "service_id" in parameters:
            if case.method == "PUT" and data.draw(st.integers(0, 3)) < 3:
                actions = ["enable", "disable", "disable-log-reason"]
                parameters["service_id"] = data.draw(st.sampled_from(actions))
            if case.method == "DELETE" and token == "admin:demo":
                case.headers["X-Auth-Token"] = USER
        if "hypervisor_id" in parameters and data.draw(st.integers(0, 3)) < 3:
            parameters["hypervisor_id"] = "1"

    @pytest.mark.timeout(1200)
    def test_fuzz_the_api(self):
        self.fuzz(int(REQUESTS or 1000))

    @pytest.mark.long
    @pytest.mark.timeout(3600)
    def test_fuzz_the_api_long(self):
        self.fuzz(int(REQUESTS or 10000))

    def fuzz(self, requests_to_make: int) -> None:
        """Make ``requests_to_make`` requests; check each, then that the cloud still serves."""
        statuses: collections.Counter[int | str] = collections.Counter()
        failures: list[str] = []
        baseline = {"versions": self.databases.versions(), "rows": self.databases.rows()}

        def fail(case, response, reason: str) -> None:
            status = response.status_code if response is not None else "-"
            text = response.text[:300] if response is not None else ""
            failures.append(
                f"{reason}\n  {case.method} {case.formatted_path} -> {status}: {text}\n"
                f"  {case.as_curl_command(base_url=self.root)}"
            )

        def judge(case, response) -> None:
            """Check one answer, and that the databases changed only if it accepted a write."""
            statuses[response.status_code] += 1
            # 501: what the description says a route answers (attaching interfaces);
            # the conformance check below holds it to the operations that list it.
            if response.status_code >= 500 and response.status_code != 501:
                fail(case, response, "server error")
            try:
                case.validate_response(response, checks=CONFORMANCE_CHECKS)
            except schemathesis.errors.FailureGroup as group:
                titles = "; ".join(failure.title for failure in group.exceptions)
                fail(case, response, f"the answer is not as described: {titles}")
            if 200 <= response.status_code < 300 and case.method != "GET":
                # An accepted write: wait for its effects, then take them as the baseline.
                if case.method == "POST" and case.path.endswith("/servers"):
                    created = (response.json().get("server") or {}).get("id")
                    if created:
                        self.servers.append(created)
                if not self.settle():
                    fail(case, response, f"the cloud did not settle in {SETTLE_TIMEOUT} s")
                baseline["versions"] = self.databases.versions()
                baseline["rows"] = self.databases.rows()
                return
            versions = self.databases.versions()
            if versions != baseline["versions"]:
                rows = self.databases.rows()
                tables = changed_tables(baseline["rows"], rows)
                if tables:
                    fail(case, response, f"a {response.status_code} wrote to " + ", ".join(tables))
                baseline["versions"], baseline["rows"] = versions, rows

        @hypothesis.seed(SEED)
        @hypothesis.settings(
            max_examples=requests_to_make,
            deadline=None,
            database=None,
            phases=[hypothesis.Phase.generate],
            suppress_health_check=list(hypothesis.HealthCheck),
        )
        @hypothesis.given(case=self.strategies(), data=st.data())
        def one_request(case, data):
            self.draw_request(case, data)
            try:
                response = case.call(base_url=self.root, session=self.session, timeout=60)
            except requests.RequestException as exc:
                statuses["no answer"] += 1
                fail(case, None, f"no answer: {exc!r}")
                return
            judge(case, response)

        started = time.monotonic()
        one_request()
        made = sum(statuses.values())
        figures = {
            "requests": made,
            "seconds": round(time.monotonic() - started, 1),
            "statuses": {str(k): v for k, v in sorted(statuses.items(), key=str)},
            "failures": len(failures),
        }
        print(f"fuzz: {json.dumps(figures)}")
        if REPORT:
            with open(REPORT, "w", encoding="utf-8") as handle:
                json.dump({**figures, "details": failures}, handle, indent=2)
        if failures:
            self.fail(
                f"{len(failures)} failures in {made} requests ({figures}); the first ones:\n\n"
                + "\n\n".join(failures[:MAX_REPORTED_FAILURES])
            )
        self.assertGreaterEqual(made, requests_to_make)
        self.check_still_serving()

    def check_still_serving(self) -> None:
        """Every server can be deleted; then a normal create, show and delete work."""
        admin = "admin:demo"
        deleted: set[str] = set()

        def all_deleted() -> bool:
            listed = self.get(f"{self.api}/servers?all_tenants=1", admin).json()["servers"]
            for server in listed:
                if server["id"] not in deleted:
                    self.send("DELETE", f"{self.api}/servers/{server['id']}", token=admin)
                    deleted.add(server["id"])
            return not listed

        self.wait_for(all_deleted, "the servers of the run to be deleted", SETTLE_TIMEOUT)
        body = {"server": {"name": "after-fuzz", "imageRef": "cirros", "flavorRef": "1"}}
        server_id = self.send("POST", f"{self.api}/servers", body)["server"]["id"]
        self.wait_for(
            lambda: (
                self.get(f"{self.api}/servers/{server_id}").json()["server"]["status"] == "ACTIVE"
            ),
            "the server to go ACTIVE after the fuzzing",
        )
        self.send("DELETE", f"{self.api}/servers/{server_id}")
        self.wait_for(
            lambda: self.get(f"{self.api}/servers/{server_id}").status_code == 404,
            "the server to be deleted after the fuzzing",
        )
        self.assertEqual(self.get(f"{self.api}/servers/{uuid.uuid4()}").status_code, 404)
