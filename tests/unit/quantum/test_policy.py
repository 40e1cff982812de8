"""Quantum's policy: a tenant's reader reads, its member writes, an admin anything."""

from __future__ import annotations

import os
import pathlib
import tempfile
from unittest import mock

from oslo_config import cfg
from oslo_policy import generator

from quantum import policy
from tests.fixtures import quantum as quantum_fixtures

REPO = pathlib.Path(__file__).resolve().parents[3]
T1 = "/v1.1/tenants/t1"


class PolicyTestCase(quantum_fixtures.QuantumTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.net_id = self.create_network()  # by a noauth member of t1
        self.port_id = self.create_port(self.net_id)
        self.ports = f"{T1}/networks/{self.net_id}/ports"
        self.conf.set_override("auth_strategy", "keystone")
        # keystonemiddleware let the request through: its headers are trusted.
        self.app.token_check = mock.Mock(**{"check.return_value": None})

    def call(self, roles: str, method: str, path: str, body=None, tenant: str = "t1"):
        headers = {
            "X-Identity-Status": "Confirmed",
            "X-User-Id": "u1",
            "X-Project-Id": tenant,
            "X-Roles": roles,
        }
        return self.request(method, path, body, token=None, headers=headers)

    def assert_refused(self, response, rule: str) -> None:
        self.assertEqual(response.status_int, 403, response.text)
        self.assertEqual(
            response.json["forbidden"]["message"],
            f"Forbidden: Policy doesn't allow {rule} to be performed.",
        )

    def writes(self) -> list[tuple[str, str, object, str]]:
        port = f"{self.ports}/{self.port_id}"
        return [
            ("POST", f"{T1}/networks", {"network": {"name": "n"}}, "create_network"),
            ("PUT", f"{T1}/networks/{self.net_id}", {"network": {"name": "m"}}, "update_network"),
            ("POST", self.ports, None, "create_port"),
            ("PUT", port, {"port": {"state": "DOWN"}}, "update_port"),
            ("PUT", f"{port}/attachment", {"attachment": {"id": "vif-1"}}, "update_port"),
            ("DELETE", f"{port}/attachment", None, "update_port"),
            ("DELETE", port, None, "delete_port"),
            ("DELETE", f"{T1}/networks/{self.net_id}", None, "delete_network"),
        ]

    def test_reader_reads_and_may_not_write(self):
        for path in (
            f"{T1}/networks",
            f"{T1}/networks/{self.net_id}",
            self.ports,
            f"{self.ports}/{self.port_id}/detail",
            f"{self.ports}/{self.port_id}/attachment",
            "/v2.0/ports",
        ):
            with self.subTest(path=path):
                self.assertEqual(self.call("reader", "GET", path).status_int, 200)
        for method, path, body, rule in self.writes():
            with self.subTest(method=method, path=path):
                self.assert_refused(self.call("reader", method, path, body), rule)
        self.assertEqual((self.count_rows("networks"), self.count_rows("ports")), (1, 1))
        attachment = self.call("reader", "GET", f"{self.ports}/{self.port_id}/attachment")
        self.assertEqual(attachment.json, {"attachment": {}})

    def test_member_writes(self):
        *port_writes, delete_network = self.writes()
        for method, path, body, _rule in port_writes:
            with self.subTest(method=method, path=path):
                response = self.call("member,reader", method, path, body)
                self.assertIn(response.status_int, (200, 202, 204), response.text)
        (created,) = self.call("reader", "GET", self.ports).json["ports"]  # POST's port
        response = self.call("member,reader", "DELETE", f"{self.ports}/{created['id']}")
        self.assertEqual(response.status_int, 204, response.text)
        response = self.call("member,reader", delete_network[0], delete_network[1])
        self.assertEqual(response.status_int, 204, response.text)
        self.assertEqual(self.count_rows("networks"), 1)  # the one the member created

    def test_no_role_is_refused_reads(self):
        self.assert_refused(self.call("other", "GET", f"{T1}/networks"), "get_network")
        self.assert_refused(self.call("", "GET", self.ports), "get_port")

    def test_another_tenants_member_is_refused_and_admin_is_not(self):
        response = self.call("member,reader", "POST", self.ports, tenant="t2")
        self.assertEqual(response.status_int, 403, response.text)
        response = self.call("admin,member,reader", "POST", self.ports, tenant="t2")
        self.assertEqual(response.status_int, 202, response.text)
        self.assertEqual(self.count_rows("ports"), 2)

    def test_noauth_users_keep_writing(self):
        self.conf.clear_override("auth_strategy")
        self.app.token_check = None
        self.create_port(self.net_id, token="alice:t1")
        self.assertEqual(self.count_rows("ports"), 2)

    def test_operator_policy_file(self):
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as handle:
            handle.write('"create_port": "role:reader and project_id:%(project_id)s"\n')
        self.addCleanup(os.unlink, handle.name)
        self.conf.set_override("policy_file", handle.name, group="oslo_policy")
        self.app.policy = policy.Enforcer(self.conf)
        response = self.call("reader", "POST", self.ports)
        self.assertEqual(response.status_int, 202, response.text)
        self.assert_refused(
            self.call("reader", "DELETE", f"{self.ports}/{self.port_id}"), "delete_port"
        )

    def test_every_action_has_a_registered_rule(self):
        registered = {rule.name for rule in policy.list_rules()}
        for resource, actions in policy.ACTIONS.items():
            for action, rule in actions.items():
                with self.subTest(resource=resource, action=action):
                    self.assertIn(rule, registered)

    def test_sample_is_generated_from_the_rules(self):
        with tempfile.TemporaryDirectory() as tmp:
            fresh = os.path.join(tmp, "quantum-policy.yaml.sample")
            generator.generate_sample(
                [
                    "--config-file",
                    str(REPO / "etc" / "quantum-policy-generator.conf"),
                    "--output-file",
                    fresh,
                ],
                conf=cfg.ConfigOpts(),  # not the global CONF: it would parse it
            )
            expected = pathlib.Path(fresh).read_text(encoding="utf-8")
        committed = (REPO / "etc" / "quantum-policy.yaml.sample").read_text(encoding="utf-8")
        self.assertEqual(
            committed,
            expected,
            "etc/quantum-policy.yaml.sample is stale: run "
            "oslopolicy-sample-generator --config-file etc/quantum-policy-generator.conf",
        )
