"""A reference Quantum service on a throw-away SQLite database, for tests."""

from __future__ import annotations

import json
import shutil
import tempfile
import unittest

import webob

from quantum import conf as quantum_conf
from quantum import server


def make_conf(state_path: str, **overrides):
    """Return a Quantum configuration with its database in ``state_path``."""
    conf = quantum_conf.new_conf()
    conf([], project="quantum", default_config_files=[])
    conf.set_override("state_path", state_path)
    for name, value in overrides.items():
        group, _, option = name.rpartition("__")
        conf.set_override(option, value, group=group or None)
    return conf


class QuantumTestCase(unittest.TestCase):
    """A test case with a Quantum WSGI app in ``self.app`` (no socket)."""

    CONF_OVERRIDES: dict = {}

    def setUp(self) -> None:
        super().setUp()
        self.state_path = tempfile.mkdtemp(prefix="quantum-test-")
        self.addCleanup(shutil.rmtree, self.state_path, ignore_errors=True)
        self.conf = make_conf(self.state_path, **self.CONF_OVERRIDES)
        self.app = server.build_app(self.conf)
        self.addCleanup(self.app.db.engine.dispose)

    def request(
        self,
        method: str,
        path: str,
        body=None,
        token: str | None = "alice:t1",
        content_type: str = "application/json",
        headers: dict | None = None,
    ) -> webob.Response:
        """Send one request to the app; a dict body is sent as JSON."""
        request = webob.Request.blank(path, method=method)
        if token is not None:
            request.headers["X-Auth-Token"] = token
        if body is not None:
            request.content_type = content_type
            request.body = json.dumps(body).encode() if isinstance(body, dict) else body
        for name, value in (headers or {}).items():
            request.headers[name] = value
        return request.get_response(self.app)

    def create_network(self, tenant="t1", token="alice:t1", **values) -> str:
        values.setdefault("name", "net")
        response = self.request(
            "POST", f"/v1.1/tenants/{tenant}/networks", {"network": values}, token=token
        )
        self.assertEqual(response.status_int, 202, response.text)
        return response.json["network"]["id"]

    def create_port(self, net_id: str, tenant="t1", token="alice:t1", body=None) -> str:
        response = self.request(
            "POST", f"/v1.1/tenants/{tenant}/networks/{net_id}/ports", body, token=token
        )
        self.assertEqual(response.status_int, 202, response.text)
        return response.json["port"]["id"]

    def count_rows(self, table: str) -> int:
        with self.app.db.engine.connect() as connection:
            return connection.exec_driver_sql(f"SELECT COUNT(*) FROM {table}").scalar_one()


def run_on_socket(test: unittest.TestCase, state_path: str | None = None) -> server.Server:
    """Start a real Quantum server on a free loopback port for ``test``."""
    state_path = state_path or tempfile.mkdtemp(prefix="quantum-server-")
    test.addCleanup(shutil.rmtree, state_path, ignore_errors=True)
    quantum = server.Server(make_conf(state_path, bind_port=0))
    quantum.start()
    test.addCleanup(quantum.stop)
    test.addCleanup(quantum.app.db.engine.dispose)
    return quantum
