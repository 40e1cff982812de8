"""``servicekit.wsgi``: the response class and a server that cannot listen."""

from __future__ import annotations

import errno
import socket
import unittest

import webob

from servicekit import wsgi


def app_answering(response: wsgi.Response):
    """Return a WSGI app that always answers ``response``."""
    return lambda environ, start_response: response(environ, start_response)


class ResponseTestCase(unittest.TestCase):
    def test_head_gets_the_headers_without_the_body(self):
        response = wsgi.Response(body=b'{"a": 1}', status=405, content_type="application/json")
        answer = webob.Request.blank("/", method="HEAD").get_response(app_answering(response))
        self.assertEqual((answer.status_int, answer.body), (405, b""))
        self.assertEqual(answer.headers["Content-Length"], "8")

    def test_204_has_no_length_nor_type(self):
        answer = webob.Request.blank("/", method="DELETE").get_response(
            app_answering(wsgi.Response(status=204))
        )
        self.assertEqual(answer.status, "204 No Content")
        self.assertNotIn("Content-Length", answer.headers)
        self.assertNotIn("Content-Type", answer.headers)

    def test_no_body_no_content_type(self):
        response = wsgi.Response(status=202)
        self.assertEqual(response.headerlist, [("Content-Length", "0")])


class ServerTestCase(unittest.TestCase):
    def test_listen_then_serve(self):
        server = wsgi.WSGIServer(
            app_answering(wsgi.Response(body=b"hi", status=200)), "127.0.0.1", 0, threads=1
        )
        self.addCleanup(server.stop)
        server.listen()
        server.listen()  # once is enough
        host, port = server.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as client:
            client.sendall(b"GET / HTTP/1.0\r\n\r\n")  # waits in the backlog
            server.start()
            answer = client.makefile("rb").read()
        self.assertTrue(answer.startswith(b"HTTP/1.0 200 OK"), answer)  # as asked
        self.assertTrue(answer.endswith(b"\r\n\r\nhi"), answer)

    def test_stop_before_listening(self):
        wsgi.WSGIServer(app_answering(wsgi.Response(status=204)), "127.0.0.1", 0).stop()


class BindErrorTestCase(unittest.TestCase):
    def setUp(self) -> None:
        self.busy = socket.create_server(("127.0.0.1", 0))
        self.addCleanup(self.busy.close)
        self.port = self.busy.getsockname()[1]

    def test_server_on_a_port_in_use(self):
        server = wsgi.WSGIServer(
            app_answering(wsgi.Response(status=204)),
            "127.0.0.1",
            self.port,
            name="api",
            port_option="[DEFAULT] api_port",
        )
        with self.assertRaises(wsgi.BindError) as raised:
            server.start()
        self.assertEqual(
            str(raised.exception),
            f"cannot listen on 127.0.0.1:{self.port}: address already in use "
            "(is another api running? change [DEFAULT] api_port)",
        )
        self.assertEqual(getattr(raised.exception.__cause__, "errno", None), errno.EADDRINUSE)

    def test_check_address(self):
        with self.assertRaises(wsgi.BindError) as raised:
            wsgi.check_address("127.0.0.1", self.port, "api")
        self.assertEqual(
            raised.exception.reason, "address already in use (is another api running?)"
        )
        port = self.port
        self.busy.close()
        wsgi.check_address("127.0.0.1", port, "api")  # free now: no error

    def test_address_not_of_this_host(self):
        error = wsgi.bind_error(
            OSError(errno.EADDRNOTAVAIL, "Cannot assign requested address"),
            "192.0.2.1",
            8774,
            "api",
            host_option="[DEFAULT] api_listen",
            port_option="[DEFAULT] api_port",
        )
        self.assertEqual(
            str(error),
            "cannot listen on 192.0.2.1:8774: cannot assign requested address "
            "(not an address of this host? change [DEFAULT] api_listen)",
        )
