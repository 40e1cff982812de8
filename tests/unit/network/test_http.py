"""The in-process transport of the network service clients."""

from __future__ import annotations

import json
import unittest

import webob
from oslo_config import cfg

from nova import context as nova_context
from nova import exception
from nova import keystone
from nova.network import http
from nova.network.quantum import client as quantum_client


def echo_app(environ, start_response):
    """Answer with what the request looked like; fail as told by the path."""
    request = webob.Request(environ)
    if request.path_info.endswith("/crash"):
        raise RuntimeError("boom")
    if request.headers.get("X-Auth-Token") == "expired":
        start_response("401 Unauthorized", [("Content-Type", "application/json")])
        return [b'{"unauthorized": {"code": 401, "message": "Authentication required."}}']
    if request.path_info.endswith("/missing"):
        status, body = "404 Not Found", {"portNotFound": {"message": "no port"}}
    elif request.path_info.endswith("/teapot"):
        status, body = "418 I'm a teapot", {"teapot": {"message": "short and stout"}}
    elif request.path_info.endswith("/busy"):
        status, body = "503 Service Unavailable", {"busy": {"message": "try later"}}
    elif request.method == "DELETE":
        start_response("204 No Content", [])
        return []
    else:
        status = "200 OK"
        body = {
            "method": request.method,
            "path": request.path_info,
            "query": dict(request.GET),
            "url": request.url,
            "token": request.headers.get("X-Auth-Token"),
            "accept": request.headers.get("Accept"),
            "content_type": request.content_type,
            "body": request.json_body if request.body else None,
            "remote_addr": request.remote_addr,
        }
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json")])
    return [data]


class TestWSGITransport(unittest.TestCase):
    def setUp(self):
        self.client = quantum_client.QuantumClient(
            "http://quantum.example:9696/base/", "admin:demo", app=echo_app
        )
        self.addCleanup(self.client.close)

    def test_request_reaches_the_app_as_over_http(self):
        answer = self.client.call(
            "POST", "/v1.1/tenants/t/networks", {"network": {"name": "n"}}, params={"a": "b c"}
        )
        self.assertEqual(
            answer,
            {
                "method": "POST",
                "path": "/base/v1.1/tenants/t/networks",
                "query": {"a": "b c"},
                "url": "http://quantum.example:9696/base/v1.1/tenants/t/networks?a=b+c",
                "token": "admin:demo",
                "accept": "application/json",
                "content_type": "application/json",
                "body": {"network": {"name": "n"}},
                "remote_addr": "in-process",
            },
        )

    def test_empty_answer_is_none(self):
        self.assertIsNone(self.client.call("DELETE", "/v1.1/tenants/t/networks/n"))

    def test_faults_map_as_over_http(self):
        with self.assertRaises(exception.PortNotFound) as raised:
            self.client.call("GET", "/x/missing", ids={"port": "p1"})
        self.assertIn("p1", raised.exception.format_message())
        with self.assertRaises(exception.NetworkServiceError) as raised:
            self.client.call("GET", "/x/teapot")
        self.assertIn("418", raised.exception.format_message())
        self.assertIn("short and stout", raised.exception.format_message())
        with self.assertRaises(exception.NetworkServiceUnavailable):
            self.client.call("GET", "/x/busy")

    def test_crashing_app_is_a_500(self):
        with self.assertLogs("nova.network.http", "ERROR"):
            with self.assertRaises(exception.NetworkServiceError) as raised:
                self.client.call("GET", "/x/crash")
        self.assertIn("500", raised.exception.format_message())

    def test_without_app_calls_go_over_http(self):
        client = quantum_client.QuantumClient("http://127.0.0.1:9", "admin:demo")
        self.addCleanup(client.close)
        self.assertIsNone(client.transport)


class FakeSession:
    """keystoneauth's Session as ServiceAuth uses it: the service user's token."""

    verify = True

    def __init__(self) -> None:
        self.calls = 0

    def get_auth_headers(self, auth):
        self.calls += 1
        return {"X-Auth-Token": "service-token"}


class TestServiceAuth(unittest.TestCase):
    """Which token a call carries: the user's, the service user's, or the static one."""

    def service_auth(self, keystone_user: bool) -> keystone.ServiceAuth:
        conf = cfg.ConfigOpts()
        keystone.register_opts(conf, "quantum")
        conf([])
        auth = keystone.ServiceAuth(conf, "quantum", "admin:demo")
        self.assertFalse(auth.uses_keystone)
        if keystone_user:  # as load_auth/session_from_conf_options make them
            auth.auth = object()
            auth.session = FakeSession()  # type: ignore[assignment]
            auth.user_tokens = True
        return auth

    def client(self, auth: keystone.ServiceAuth) -> quantum_client.QuantumClient:
        client = quantum_client.QuantumClient(
            "http://quantum.example:9696", "admin:demo", app=echo_app, auth=auth
        )
        self.addCleanup(client.close)
        return client

    def token_of(self, client, context=None) -> str:
        with http.acting_for(context):
            return client.call("GET", "/v1.1/tenants/t/networks")["token"]

    def test_user_token_then_service_user(self):
        auth = self.service_auth(keystone_user=True)
        client = self.client(auth)
        user = nova_context.RequestContext("u", "t", auth_token="user-token")
        self.assertEqual(self.token_of(client, user), "user-token")
        self.assertEqual(auth.session.calls, 0)
        # Nova's own work (no context, a context without a token): the service user.
        self.assertEqual(self.token_of(client), "service-token")
        self.assertEqual(self.token_of(client, nova_context.get_admin_context()), "service-token")

    def test_refused_user_token_is_retried_as_the_service_user(self):
        client = self.client(self.service_auth(keystone_user=True))
        expired = nova_context.RequestContext("u", "t", auth_token="expired")
        with self.assertLogs("nova.network.http", "INFO") as logged:
            self.assertEqual(self.token_of(client, expired), "service-token")
        self.assertIn("retrying as the service user", logged.output[0])

    def test_without_a_service_user_the_static_token_as_before(self):
        client = self.client(self.service_auth(keystone_user=False))
        user = nova_context.RequestContext("u", "t", auth_token="user-token")
        self.assertEqual(self.token_of(client, user), "admin:demo")
        self.assertEqual(self.token_of(client), "admin:demo")
        with self.assertRaises(exception.NetworkServiceError):
            # A static token the service refuses is not retried.
            noauth = self.client(self.service_auth(keystone_user=False))
            noauth.session.headers["X-Auth-Token"] = "expired"
            noauth.auth.static_token = "expired"
            self.token_of(noauth, user)

    def test_keystone_api_without_a_service_user_forwards_user_tokens(self):
        conf = cfg.ConfigOpts()
        keystone.register_opts(conf, "quantum")
        conf([])
        client = self.client(keystone.ServiceAuth(conf, "quantum", "admin:demo", user_tokens=True))
        user = nova_context.RequestContext("u", "t", auth_token="user-token")
        self.assertEqual(self.token_of(client, user), "user-token")
        self.assertEqual(self.token_of(client), "admin:demo")

    def test_on_behalf_sets_the_context_for_the_call_only(self):
        seen = []

        class API:
            @http.on_behalf
            def allocate(self, context, value):
                seen.append((http._ACTING_FOR.get(), value))

        user = nova_context.RequestContext("u", "t", auth_token="user-token")
        API().allocate(user, 1)
        self.assertEqual(seen, [(user, 1)])
        self.assertIsNone(http._ACTING_FOR.get())

    def test_group_options_and_sample(self):
        conf = cfg.ConfigOpts()
        keystone.register_opts(conf, "glance")
        conf([])
        self.assertIsNone(conf.glance.auth_type)
        self.assertIn("cafile", conf.glance)
        names = {opt.dest for opt in keystone.list_opts()}
        self.assertLessEqual({"auth_type", "auth_url", "username", "password", "cafile"}, names)
        self.assertNotIn("timeout", names)
