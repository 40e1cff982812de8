"""Quantum with ``auth_strategy = keystone`` and no Keystone: the middleware's answers as faults.

The real Keystone is in tests/integration/test_keystone.py.
"""

from __future__ import annotations

from keystoneauth1 import loading as ks_loading
from keystonemiddleware.auth_token import _opts as ksm_opts

from quantum.api import router
from tests.fixtures import processes
from tests.fixtures import quantum as quantum_fixtures

NETWORKS = "/v1.1/tenants/t1/networks"


class KeystoneFailuresTestCase(quantum_fixtures.QuantumTestCase):
    def keystone_app(self, **authtoken: object) -> None:
        """Make ``self.app`` check tokens with ``[keystone_authtoken]`` = ``authtoken``."""
        self.conf.set_override("auth_strategy", "keystone")
        group = "keystone_authtoken"
        for name, opts in ksm_opts.list_opts():
            self.conf.register_opts(opts, group=name)
        self.conf.register_opts(ks_loading.get_auth_plugin_conf_options("password"), group=group)
        for name, value in authtoken.items():
            self.conf.set_override(name, value, group=group)
        self.app = router.QuantumApp(self.conf, self.app.db)

    def assert_fault(self, response, code: int, name: str) -> None:
        self.assertEqual(response.status_int, code, response.text)
        self.assertEqual(response.json[name]["code"], code)

    def test_versions_need_no_token_and_a_missing_one_is_401(self):
        self.keystone_app(www_authenticate_uri="http://keystone.example:5000")
        self.assertEqual(self.request("GET", "/", token=None).status_int, 200)
        response = self.request("GET", NETWORKS, token=None)
        self.assert_fault(response, 401, "unauthorized")
        self.assertEqual(
            response.headers["WWW-Authenticate"], 'Keystone uri="http://keystone.example:5000"'
        )
        # Identity headers of the client's own are removed, not trusted.
        forged = {"X-Identity-Status": "Confirmed", "X-Project-Id": "t1", "X-Roles": "admin"}
        self.assert_fault(
            self.request("GET", NETWORKS, token=None, headers=forged), 401, "unauthorized"
        )

    def test_no_auth_plugin_is_a_500_fault(self):
        self.keystone_app()
        with self.assertLogs("servicekit.keystone", "ERROR"):
            response = self.request("GET", NETWORKS, token="some-token")
        self.assert_fault(response, 500, "quantumServiceFault")

    def test_unreachable_keystone_is_a_503_fault(self):
        dead = f"http://127.0.0.1:{processes.free_port()}"
        self.keystone_app(
            www_authenticate_uri=dead,
            auth_type="password",
            auth_url=dead + "/v3",
            username="quantum",
            password="x",
            project_name="service",
            user_domain_id="default",
            project_domain_id="default",
            http_request_max_retries=0,
        )
        response = self.request("GET", NETWORKS, token="some-token")
        self.assert_fault(response, 503, "serviceUnavailable")
        self.assertIn("Retry-After", response.headers)
