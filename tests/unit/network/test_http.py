"""The in-process transport of the network service clients."""

from __future__ import annotations

import json
import unittest

import webob

from nova import exception
from nova.network.quantum import client as quantum_client


def echo_app(environ, start_response):
    """Answer with what the request looked like; fail as told by the path."""
    request = webob.Request(environ)
    if request.path_info.endswith("/crash"):
        raise RuntimeError("boom")
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
