"""``auth_strategy = keystone`` in the compute API without a Keystone: the headers and the failures.

The real Keystone is in tests/integration/test_keystone.py; here the
context read from keystonemiddleware's headers, and what a request gets
when the middleware is misconfigured (no auth plugin) or cannot reach
Keystone.
"""

from __future__ import annotations

import json
import unittest

import webob
from keystoneauth1 import loading as ks_loading
from keystonemiddleware.auth_token import _opts as ksm_opts

import nova.conf
from nova import exception
from nova.api.openstack import auth
from nova.api.openstack import router
from tests.fixtures import api as api_fixtures
from tests.fixtures import processes

CONF = nova.conf.CONF

CONFIRMED = {
    "X-Identity-Status": "Confirmed",
    "X-User-Id": "u1",
    "X-User-Name": "alice",
    "X-Project-Id": "p1",
    "X-Project-Name": "demo",
    "X-Roles": "Member,reader, Admin",
    "X-Auth-Token": "tok",
}


class ContextFromKeystoneTestCase(unittest.TestCase):
    def test_identity_roles_token_and_catalog(self):
        catalog = [
            {"type": "network", "name": "quantum", "endpoints": [{"url": "http://q"}]},
            {"type": "identity", "name": "keystone", "endpoints": []},
        ]
        headers = {**CONFIRMED, "X-Service-Catalog": json.dumps(catalog)}
        for given in (headers, webob.Request.blank("/", headers=headers).headers):
            with self.subTest(headers=type(given).__name__):
                context = auth.context_from_keystone(given, "req-1")
                self.assertEqual(
                    (context.user_id, context.project_id, context.request_id, context.auth_token),
                    ("u1", "p1", "req-1", "tok"),
                )
                self.assertEqual((context.user_name, context.project_name), ("alice", "demo"))
                self.assertEqual(context.roles, ["member", "reader", "admin"])
                self.assertTrue(context.is_admin)
                self.assertEqual([e["type"] for e in context.service_catalog], ["network"])

    def test_member_is_no_admin_and_legacy_tenant_header(self):
        headers = {**CONFIRMED, "X-Roles": "member"}
        del headers["X-Project-Id"]
        headers["X-Tenant-Id"] = "t9"
        context = auth.context_from_keystone(headers, "req-2")
        self.assertEqual(
            (context.project_id, context.roles, context.is_admin), ("t9", ["member"], False)
        )
        self.assertEqual(context.service_catalog, [])

    def test_unconfirmed_or_bad_catalog(self):
        for status in ("Invalid", None):
            headers = {k: v for k, v in CONFIRMED.items() if k != "X-Identity-Status"}
            if status:
                headers["X-Identity-Status"] = status
            with self.assertRaises(exception.NotAuthenticated):
                auth.context_from_keystone(headers, "req-3")
        with self.assertRaises(exception.Invalid):
            auth.context_from_keystone({**CONFIRMED, "X-Service-Catalog": "{nope"}, "req-4")

    def test_context_travels_with_its_token_and_catalog(self):
        headers = {**CONFIRMED, "X-Service-Catalog": json.dumps([{"type": "image"}])}
        context = auth.context_from_keystone(headers, "req-5")
        again = type(context).from_dict(context.to_dict())
        self.assertEqual(
            (again.auth_token, again.roles, again.service_catalog, again.is_admin),
            ("tok", ["member", "reader", "admin"], [{"type": "image"}], True),
        )


class KeystoneMiddlewareFailuresTestCase(api_fixtures.APITestCase):
    """The API's own fault bodies when keystonemiddleware cannot check a token."""

    def keystone_app(self, **authtoken: object) -> router.APIRouter:
        CONF.set_override("auth_strategy", "keystone", group="api")
        self.addCleanup(CONF.clear_override, "auth_strategy", group="api")
        # What the middleware and its password plugin would register, first:
        # the overrides must be in place when it reads them.
        group = "keystone_authtoken"
        for name, opts in ksm_opts.list_opts():
            CONF.register_opts(opts, group=name)
        CONF.register_opts(ks_loading.get_auth_plugin_conf_options("password"), group=group)
        for name, value in authtoken.items():
            CONF.set_override(name, value, group=group)
            self.addCleanup(CONF.clear_override, name, group=group)
        return router.APIRouter()

    def get(self, app, path: str, token: str | None = "some-token") -> webob.Response:
        request = webob.Request.blank(path, headers={"X-Auth-Token": token} if token else {})
        return request.get_response(app)

    def assert_fault(self, response: webob.Response, code: int, name: str) -> None:
        self.assertEqual(response.status_int, code, response.text)
        self.assertEqual(response.json[name]["code"], code)
        self.assertTrue(response.headers["x-openstack-request-id"].startswith("req-"))

    def test_no_auth_plugin_is_a_500_fault(self):
        app = self.keystone_app()
        self.assertEqual(self.get(app, "/v2.1", token=None).status_int, 200)
        with self.assertLogs("servicekit.keystone", "ERROR"):
            response = self.get(app, "/v2.1/servers")
        self.assert_fault(response, 500, "computeFault")
        self.assertIn("authentication middleware", response.json["computeFault"]["message"])

    def test_missing_token_is_401_with_www_authenticate(self):
        app = self.keystone_app(www_authenticate_uri="http://keystone.example:5000")
        response = self.get(app, "/v2.1/servers", token=None)
        self.assert_fault(response, 401, "unauthorized")
        self.assertEqual(
            response.headers["WWW-Authenticate"], 'Keystone uri="http://keystone.example:5000"'
        )

    def test_unreachable_keystone_is_a_503_fault(self):
        dead = f"http://127.0.0.1:{processes.free_port()}"
        app = self.keystone_app(
            www_authenticate_uri=dead,
            auth_type="password",
            auth_url=dead + "/v3",
            username="nova",
            password="x",
            project_name="service",
            user_domain_id="default",
            project_domain_id="default",
            http_request_max_retries=0,
        )
        response = self.get(app, "/v2.1/servers")
        self.assert_fault(response, 503, "serviceUnavailable")
        self.assertIn("Retry-After", response.headers)
        self.assertEqual(self.get(app, "/", token=None).status_int, 200)
