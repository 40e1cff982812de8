"""The policy: Nova's default rules through oslo.policy, roles from the identity.

The expected outcomes are written out per group of rules here (not read
back from the rules), so a changed default fails a test.
"""

from __future__ import annotations

import ast
import os
import pathlib
import tempfile
import unittest
from unittest import mock

from oslo_config import cfg
from oslo_policy import generator

import nova.conf
from nova import context as nova_context
from nova import exception
from nova import policies
from nova.api.openstack import auth
from nova.api.openstack import policy
from nova.api.openstack import router
from tests.fixtures import api
from tests.fixtures import clients

CONF = nova.conf.CONF
REPO = pathlib.Path(__file__).resolve().parents[4]

# --- the expected defaults (Nova's), by group ---------------------------------------------

#: Reader (or admin) on the target's project.
READS = {
    "os_compute_api:servers:index",
    "os_compute_api:servers:detail",
    "os_compute_api:servers:show",
    "os_compute_api:server-metadata:index",
    "os_compute_api:server-metadata:show",
    "os_compute_api:ips:index",
    "os_compute_api:ips:show",
    "os_compute_api:os-attach-interfaces:list",
    "os_compute_api:os-attach-interfaces:show",
    "os_compute_api:os-flavor-extra-specs:index",
    "os_compute_api:os-flavor-extra-specs:show",
    "os_compute_api:os-quota-sets:show",
    "os_compute_api:os-quota-sets:detail",
    "os_compute_api:os-virtual-interfaces",
}
#: Member (or admin) on the target's project.
WRITES = {
    "os_compute_api:os-console-output",
    "os_compute_api:servers:create",
    "os_compute_api:servers:update",
    "os_compute_api:servers:delete",
    "os_compute_api:server-metadata:create",
    "os_compute_api:server-metadata:update_all",
    "os_compute_api:server-metadata:update",
    "os_compute_api:server-metadata:delete",
    "os_compute_api:os-attach-interfaces:create",
    "os_compute_api:os-attach-interfaces:delete",
    "os_compute_api:os-server-launch:launch",
}
#: The admin role only.
ADMIN_ONLY = {
    "os_compute_api:images:local:delete",
    "os_compute_api:servers:index:get_all_tenants",
    "os_compute_api:servers:detail:get_all_tenants",
    "os_compute_api:servers:allow_all_filters",
    "os_compute_api:servers:show:host_status",
    "os_compute_api:os-availability-zone:detail",
    "os_compute_api:os-flavor-manage:create",
    "os_compute_api:os-flavor-manage:delete",
    "os_compute_api:os-flavor-extra-specs:create",
    "os_compute_api:os-flavor-extra-specs:update",
    "os_compute_api:os-flavor-extra-specs:delete",
    "os_compute_api:os-services:list",
    "os_compute_api:os-services:update",
    "os_compute_api:os-services:delete",
    "os_compute_api:os-hypervisors:list",
    "os_compute_api:os-hypervisors:list-detail",
    "os_compute_api:os-hypervisors:statistics",
    "os_compute_api:os-hypervisors:show",
    "os_compute_api:os-hypervisors:uptime",
    "os_compute_api:os-aggregates:index",
    "os_compute_api:os-admin-actions:reset_state",
    "os_compute_api:os-quota-sets:update",
    "os_compute_api:os-quota-sets:delete",
    "os_compute_api:limits:other_project",
}
#: Anyone authenticated, whatever their roles.
ANYONE = {
    "os_compute_api:extensions",
    "os_compute_api:os-availability-zone:list",
    "os_compute_api:os-quota-sets:defaults",
    "os_compute_api:limits",
}
#: The key pairs' owner (by user id) or an admin.
OWNER_USER = {
    "os_compute_api:os-keypairs:index",
    "os_compute_api:os-keypairs:create",
    "os_compute_api:os-keypairs:show",
    "os_compute_api:os-keypairs:delete",
}
BASE_RULES = {
    "context_is_admin",
    "admin_api",
    "project_manager_api",
    "project_member_api",
    "project_reader_api",
    "service_api",
    "project_manager_or_admin",
    "project_member_or_admin",
    "project_reader_or_admin",
    "service_or_admin",
}

#: The roles of each persona, as Keystone's implied roles give them.
PERSONAS = {
    "admin": ["reader", "member", "admin"],
    "member": ["reader", "member"],
    "reader": ["reader"],
    "no role": [],
    "other role": ["other"],
}


def make_context(persona: str, project: str = "p1", user: str = "u1"):
    context = nova_context.RequestContext(
        user_id=user, project_id=project, roles=list(PERSONAS[persona]), overwrite=False
    )
    context.is_admin = policy.check_is_admin(context)
    return context


def expected(rule: str, persona: str, same_project: bool, same_user: bool) -> bool:
    if persona == "admin" or rule in ANYONE:
        return True
    if rule in READS:
        return same_project and persona in ("member", "reader")
    if rule in WRITES:
        return same_project and persona == "member"
    if rule in OWNER_USER:
        return same_user
    return False  # ADMIN_ONLY


class PolicyCase(unittest.TestCase):
    def setUp(self) -> None:
        super().setUp()
        policy.reset()
        self.addCleanup(policy.reset)


class DefaultRulesTestCase(PolicyCase):
    def test_every_rule_is_in_one_group(self):
        groups = [READS, WRITES, ADMIN_ONLY, ANYONE, OWNER_USER, BASE_RULES]
        registered = [rule.name for rule in policies.list_rules()]
        self.assertEqual(len(registered), len(set(registered)), "a rule registered twice")
        self.assertEqual(set(registered), set().union(*groups))
        self.assertEqual(sum(len(group) for group in groups), len(registered))

    def test_api_rules_are_documented_for_project_scope(self):
        for rule in policies.list_rules():
            if rule.name in BASE_RULES:
                continue
            with self.subTest(rule=rule.name):
                self.assertIsInstance(rule, policy.oslo_policy.DocumentedRuleDefault)
                self.assertTrue(rule.description)
                self.assertTrue(rule.operations)
                self.assertEqual(rule.scope_types, ["project"])

    def test_matrix_personas_projects_users(self):
        rules = READS | WRITES | ADMIN_ONLY | ANYONE | OWNER_USER
        for persona in PERSONAS:
            context = make_context(persona)
            for rule in sorted(rules):
                for project, user in (("p1", "u1"), ("p2", "u1"), ("p1", "u2"), ("p2", "u2")):
                    target = {"project_id": project, "user_id": user}
                    with self.subTest(persona=persona, rule=rule, target=target):
                        self.assertEqual(
                            policy.check(context, rule, target),
                            expected(rule, persona, project == "p1", user == "u1"),
                        )

    def test_default_target_is_the_callers_own(self):
        reader = make_context("reader")
        self.assertTrue(policy.check(reader, "os_compute_api:servers:index"))
        self.assertFalse(policy.check(reader, "os_compute_api:servers:create"))
        self.assertTrue(policy.check(make_context("member"), "os_compute_api:servers:create"))

    def test_refusal_is_novas_403(self):
        with self.assertRaises(exception.PolicyNotAuthorized) as caught:
            policy.authorize(make_context("reader"), "os_compute_api:servers:create")
        self.assertEqual(caught.exception.code, 403)
        self.assertEqual(
            str(caught.exception),
            "Policy doesn't allow os_compute_api:servers:create to be performed.",
        )

    def test_a_system_scoped_token_is_refused_project_rules(self):
        context = make_context("admin")
        context.system_scope = "all"
        self.assertFalse(policy.check(context, "os_compute_api:servers:index"))

    def test_every_rule_named_in_the_code_is_registered(self):
        registered = {rule.name for rule in policies.list_rules()}
        named = set()
        for directory in ("nova/api", "api_extensions"):
            for path in (REPO / directory).rglob("*.py"):
                for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                    if (
                        isinstance(node, ast.Constant)
                        and isinstance(node.value, str)
                        and node.value.startswith("os_compute_api:")
                        and not node.value.endswith(":")  # a piece of an f-string
                    ):
                        named.add(node.value)
        self.assertGreater(len(named), 40)
        self.assertEqual(named - registered, set())

    def test_sample_is_generated_from_the_rules(self):
        with tempfile.TemporaryDirectory() as tmp:
            fresh = os.path.join(tmp, "nova-policy.yaml.sample")
            generator.generate_sample(
                [
                    "--config-file",
                    str(REPO / "etc" / "nova-policy-generator.conf"),
                    "--output-file",
                    fresh,
                ],
                conf=cfg.ConfigOpts(),  # not the global CONF: it would parse it
            )
            expected_text = pathlib.Path(fresh).read_text(encoding="utf-8")
        committed = (REPO / "etc" / "nova-policy.yaml.sample").read_text(encoding="utf-8")
        self.assertIn('#"os_compute_api:servers:create": "rule:project_member_or_admin"', committed)
        self.assertEqual(
            committed,
            expected_text,
            "etc/nova-policy.yaml.sample is stale: run "
            "oslopolicy-sample-generator --config-file etc/nova-policy-generator.conf",
        )


class ContextTestCase(PolicyCase):
    def test_noauth2_identities_have_novas_roles(self):
        user = auth.context_from_noauth2({"X-Auth-Token": "alice:demo"}, "req-1")
        self.assertEqual(sorted(user.roles), ["member", "reader"])
        self.assertFalse(user.is_admin)
        admin = auth.context_from_noauth2({"X-Auth-Token": "admin:demo"}, "req-2")
        self.assertEqual(sorted(admin.roles), ["admin", "member", "reader"])
        self.assertTrue(admin.is_admin)

    def test_keystone_roles_reach_the_policy_lower_cased(self):
        headers = {
            "X-Identity-Status": "Confirmed",
            "X-User-Id": "u1",
            "X-Project-Id": "p1",
            "X-Roles": "Reader, ",
        }
        reader = auth.context_from_keystone(headers, "req-1")
        self.assertEqual(reader.roles, ["reader"])
        self.assertFalse(reader.is_admin)
        self.assertTrue(policy.check(reader, "os_compute_api:servers:show"))
        self.assertFalse(policy.check(reader, "os_compute_api:servers:delete"))
        admin = auth.context_from_keystone({**headers, "X-Roles": "ADMIN"}, "req-2")
        self.assertTrue(admin.is_admin)

    def test_is_admin_follows_the_context_is_admin_rule(self):
        self.use_policy_file('"context_is_admin": "role:cloud-admin"\n')
        admin = auth.context_from_noauth2({"X-Auth-Token": "admin:demo"}, "req-1")
        self.assertFalse(admin.is_admin)
        headers = {
            "X-Identity-Status": "Confirmed",
            "X-User-Id": "u1",
            "X-Project-Id": "p1",
            "X-Roles": "cloud-admin",
        }
        self.assertTrue(auth.context_from_keystone(headers, "req-2").is_admin)

    def test_elevated_adds_admin_and_leaves_the_original(self):
        reader = make_context("reader")
        elevated = reader.elevated()
        self.assertTrue(elevated.is_admin)
        self.assertIn("admin", elevated.roles)
        self.assertEqual(reader.roles, ["reader"])
        self.assertFalse(reader.is_admin)
        self.assertTrue(policy.check(elevated, "os_compute_api:os-services:list"))

    def use_policy_file(self, text: str) -> None:
        use_policy_file(self, text)


def use_policy_file(test: unittest.TestCase, text: str) -> None:
    """Make ``text`` (YAML) the operator's policy file for the rest of ``test``."""
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as handle:
        handle.write(text)
    test.addCleanup(os.unlink, handle.name)
    CONF.set_override("policy_file", handle.name, group="oslo_policy")
    test.addCleanup(CONF.clear_override, "policy_file", group="oslo_policy")
    policy.reset()
    test.addCleanup(policy.reset)


class KeystoneIdentitiesAPITestCase(api.APITestCase):
    """The API with ``auth_strategy = keystone``, sent the headers keystonemiddleware sets."""

    def setUp(self) -> None:
        super().setUp()
        CONF.set_override("auth_strategy", "keystone", group="api")
        self.addCleanup(CONF.clear_override, "auth_strategy", group="api")
        policy.reset()
        self.addCleanup(policy.reset)
        self.app = router.APIRouter()
        # keystonemiddleware let the request through: its headers are trusted.
        self.app.token_check = mock.Mock(**{"check.return_value": None})

    def call(self, persona: str, method: str, path: str, body=None, project: str = "p1"):
        headers = {
            "X-Identity-Status": "Confirmed",
            "X-User-Id": f"{persona.replace(' ', '-')}-of-{project}",
            "X-Project-Id": project,
            "X-Roles": ",".join(PERSONAS[persona]),
        }
        return clients.wsgi_request(self.app, method, path, body, headers=headers)

    def assert_refused(self, response, rule: str) -> None:
        self.assertEqual(response.status_int, 403, response.text)
        self.assertEqual(
            response.json,
            {
                "forbidden": {
                    "code": 403,
                    "message": f"Policy doesn't allow {rule} to be performed.",
                }
            },
        )

    def create_server(self, persona: str = "member", project: str = "p1") -> str:
        body = {"server": {"name": "vm", "imageRef": "cirros", "flavorRef": "1"}}
        response = self.call(persona, "POST", "/v2.1/servers", body, project=project)
        self.assertEqual(response.status_int, 202, response.text)
        return response.json["server"]["id"]

    def test_reader_reads_and_may_not_write(self):
        server = self.create_server("member")
        for path in (
            "/v2.1/servers",
            "/v2.1/servers/detail",
            f"/v2.1/servers/{server}",
            f"/v2.1/servers/{server}/metadata",
            f"/v2.1/servers/{server}/ips",
            f"/v2.1/servers/{server}/os-interface",
            "/v2.1/flavors/1/os-extra_specs",
            "/v2.1/os-quota-sets/p1",
            "/v2.1/limits",
        ):
            with self.subTest(path=path):
                response = self.call("reader", "GET", path)
                self.assertEqual(response.status_int, 200, response.text)
        body = {"server": {"name": "vm", "imageRef": "cirros", "flavorRef": "1"}}
        self.assert_refused(
            self.call("reader", "POST", "/v2.1/servers", body), "os_compute_api:servers:create"
        )
        self.assertEqual(self.count("instances"), 1)
        for method, path, body, rule in (
            ("PUT", f"/v2.1/servers/{server}", {"server": {"name": "x"}}, "servers:update"),
            ("DELETE", f"/v2.1/servers/{server}", None, "servers:delete"),
            (
                "POST",
                f"/v2.1/servers/{server}/metadata",
                {"metadata": {"k": "v"}},
                "server-metadata:create",
            ),
            (
                "PUT",
                f"/v2.1/servers/{server}/metadata/k",
                {"meta": {"k": "v"}},
                "server-metadata:update",
            ),
            (
                "POST",
                f"/v2.1/servers/{server}/os-interface",
                {"interfaceAttachment": {"port_id": "x"}},
                "os-attach-interfaces:create",
            ),
        ):
            with self.subTest(method=method, path=path):
                self.assert_refused(
                    self.call("reader", method, path, body), f"os_compute_api:{rule}"
                )
        shown = self.call("reader", "GET", f"/v2.1/servers/{server}").json["server"]
        self.assertEqual((shown["name"], shown["metadata"]), ("vm", {}))

    def test_member_writes_its_project_only(self):
        server = self.create_server("member")
        response = self.call(
            "member", "PUT", f"/v2.1/servers/{server}", {"server": {"name": "renamed"}}
        )
        self.assertEqual(response.status_int, 200, response.text)
        self.assertEqual(response.json["server"]["name"], "renamed")
        # Another project's member: the server is not theirs to find (Nova's 404).
        for method in ("GET", "DELETE"):
            response = self.call("member", method, f"/v2.1/servers/{server}", project="p2")
            self.assertEqual(response.status_int, 404, response.text)
        self.assertEqual(
            self.call("member", "GET", "/v2.1/servers", project="p2").json, {"servers": []}
        )
        # A project named in the URL is the target: another one's quotas are refused.
        self.assert_refused(
            self.call("member", "GET", "/v2.1/os-quota-sets/p1", project="p2"),
            "os_compute_api:os-quota-sets:show",
        )
        response = self.call("member", "DELETE", f"/v2.1/servers/{server}")
        self.assertEqual(response.status_int, 204, response.text)

    def test_no_role_is_refused_project_reads(self):
        server = self.create_server("member")
        for persona in ("no role", "other role"):
            with self.subTest(persona=persona):
                self.assert_refused(
                    self.call(persona, "GET", "/v2.1/servers"), "os_compute_api:servers:index"
                )
                self.assert_refused(
                    self.call(persona, "GET", f"/v2.1/servers/{server}"),
                    "os_compute_api:servers:show",
                )
                # Nova's rules for anyone authenticated.
                self.assertEqual(self.call(persona, "GET", "/v2.1/limits").status_int, 200)

    def test_admin_rules(self):
        server = self.create_server("member", project="p2")
        self.assert_refused(
            self.call("member", "GET", "/v2.1/os-services"), "os_compute_api:os-services:list"
        )
        self.assert_refused(
            self.call("member", "GET", "/v2.1/servers?all_tenants=1"),
            "os_compute_api:servers:index:get_all_tenants",
        )
        self.assertEqual(self.call("admin", "GET", "/v2.1/os-services").status_int, 200)
        listed = self.call("admin", "GET", "/v2.1/servers?all_tenants=1").json["servers"]
        self.assertEqual([s["id"] for s in listed], [server])
        response = self.call("admin", "DELETE", f"/v2.1/servers/{server}")
        self.assertEqual(response.status_int, 204, response.text)

    def test_key_pairs_are_the_users_own(self):
        # Nova's rule: the user (any role) or an admin.
        response = self.call("reader", "POST", "/v2.1/os-keypairs", {"keypair": {"name": "k"}})
        self.assertEqual(response.status_int, 200, response.text)
        listed = self.call("reader", "GET", "/v2.1/os-keypairs").json["keypairs"]
        self.assertEqual([k["keypair"]["name"] for k in listed], ["k"])

    def test_operator_policy_file_overrides_a_default(self):
        self.assert_refused(
            self.call("reader", "GET", "/v2.1/os-services"), "os_compute_api:os-services:list"
        )
        use_policy_file(self, '"os_compute_api:os-services:list": "rule:project_reader_or_admin"\n')
        response = self.call("reader", "GET", "/v2.1/os-services")
        self.assertEqual(response.status_int, 200, response.text)
        self.assertIn("services", response.json)
        # The other rules keep their defaults.
        self.assert_refused(
            self.call("reader", "DELETE", "/v2.1/os-services/1"),
            "os_compute_api:os-services:delete",
        )
        body = {"server": {"name": "vm", "imageRef": "cirros", "flavorRef": "1"}}
        self.assert_refused(
            self.call("reader", "POST", "/v2.1/servers", body), "os_compute_api:servers:create"
        )


class NoAuth2APITestCase(api.APITestCase):
    """noauth2 keeps today's behaviour: any user member and reader, ``admin`` an admin."""

    def test_noauth2_user_writes_and_admin_is_admin(self):
        server = self.create_server(token="alice:demo")
        self.assertEqual(self.request("GET", f"/v2.1/servers/{server}").status_int, 200)
        self.assertEqual(self.request("GET", "/v2.1/os-services").status_int, 403)
        response = self.request("GET", "/v2.1/os-services", token="admin:demo")
        self.assertEqual(response.status_int, 200, response.text)
