"""``servicekit.wsgi``: the response class, a server that cannot listen, the limits."""

from __future__ import annotations

import concurrent.futures
import errno
import logging
import resource
import socket
import threading
import time
import unittest
import urllib.request
from unittest import mock

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


class WriteThreadsTestCase(unittest.TestCase):
    """``Limits.write_threads``: writes on threads of their own, reads never behind them."""

    def setUp(self) -> None:
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.writing = 0
        self.most_writing = 0
        server = wsgi.WSGIServer(
            self.app, "127.0.0.1", 0, limits=wsgi.Limits(threads=2, write_threads=1)
        )
        self.addCleanup(server.stop)
        self.addCleanup(self.release.set)  # before stop: no write left waiting
        server.start()
        self.url = server.url

    def app(self, environ, start_response):
        if environ["REQUEST_METHOD"] in ("GET", "HEAD"):
            return wsgi.Response(body=b"read", status=200)(environ, start_response)
        with self.lock:
            self.writing += 1
            self.most_writing = max(self.most_writing, self.writing)
        self.release.wait(10)
        with self.lock:
            self.writing -= 1
        return wsgi.Response(status=204)(environ, start_response)

    def send(self, method: str) -> concurrent.futures.Future:
        return self.pool.submit(
            urllib.request.urlopen, urllib.request.Request(self.url, method=method), timeout=10
        )

    def test_reads_are_served_while_writes_wait_and_writes_run_one_at_a_time(self):
        self.pool = concurrent.futures.ThreadPoolExecutor(4)
        self.addCleanup(self.pool.shutdown)
        writes = [self.send(method) for method in ("POST", "PUT", "DELETE")]
        deadline = time.monotonic() + 10
        while self.writing == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        self.assertEqual(self.writing, 1)  # one write runs, the others queue
        for _ in range(3):
            with urllib.request.urlopen(self.url, timeout=5) as read:
                self.assertEqual(read.read(), b"read")
        self.release.set()
        self.assertEqual([w.result(timeout=10).status for w in writes], [204, 204, 204])
        self.assertEqual(self.most_writing, 1)


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


class LimitsTestCase(unittest.TestCase):
    """A real server on a loopback port, with small limits."""

    def serve(self, **limits) -> tuple[str, int]:
        server = wsgi.WSGIServer(
            app_answering(wsgi.Response(body=b"hi", status=200)),
            "127.0.0.1",
            0,
            limits=wsgi.Limits(**limits),
        )
        self.addCleanup(server.stop)
        server.start()
        host, port = server.url.removeprefix("http://").split(":")
        return host, int(port)

    def test_a_request_not_sent_whole_in_time_is_closed(self):
        address = self.serve(read_timeout=1, idle_timeout=30)
        with socket.create_connection(address, timeout=10) as trickler:
            trickler.sendall(b"GET / HTTP/1.1\r\nX-Slow: ")
            start = time.monotonic()
            for _ in range(8):  # one byte every 0.5 s: never idle, never done
                time.sleep(0.5)
                try:
                    trickler.sendall(b"a")
                except OSError:
                    break
            self.assertEqual(trickler.recv(100), b"")  # closed without an answer
            self.assertLess(time.monotonic() - start, 4)

    def test_the_idlest_connection_makes_room_for_a_waiting_client(self):
        address = self.serve(connections=wsgi.MIN_CONNECTIONS)
        idle = [socket.create_connection(address, timeout=10) for _ in range(30)]
        self.addCleanup(lambda: [sock.close() for sock in idle])
        start = time.monotonic()
        with socket.create_connection(address, timeout=20) as client:
            client.sendall(b"GET / HTTP/1.0\r\n\r\n")
            self.assertTrue(client.makefile("rb").read().endswith(b"\r\n\r\nhi"))
        self.assertLess(time.monotonic() - start, 10)

    def test_the_server_answers_framing_errors_in_the_fault_format(self):
        server = wsgi.WSGIServer(
            app_answering(wsgi.Response(status=204)),
            "127.0.0.1",
            0,
            fault_body=lambda code, message: ("application/json", f'["{code}"]'.encode()),
        )
        self.addCleanup(server.stop)
        server.start()
        host, port = server.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as client:
            client.sendall(b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab")
            answer = client.makefile("rb").read()
        self.assertTrue(answer.startswith(b"HTTP/1.1 400 Bad Request\r\n"), answer)
        self.assertIn(b"Connection: close\r\n", answer)
        self.assertTrue(answer.endswith(b'\r\n\r\n["400"]'), answer)


class ConnectionLimitTestCase(unittest.TestCase):
    def test_the_open_file_limit_is_shared_by_the_servers(self):
        with mock.patch.object(resource, "getrlimit", return_value=(1024, 4096)):
            self.assertEqual(wsgi.connection_limit(1000, servers=2), (1024 - 128) // 2)
            self.assertEqual(wsgi.connection_limit(100, servers=2), 100)
        with mock.patch.object(resource, "getrlimit", return_value=(130, 130)):
            self.assertEqual(wsgi.connection_limit(1000), wsgi.MIN_CONNECTIONS)


class RateLimitTestCase(unittest.TestCase):
    def test_a_burst_per_interval_then_the_count_of_those_held_back(self):
        logger = logging.getLogger("tests.rate_limit")
        logger.addFilter(wsgi.RateLimit(burst=2, interval=60))
        clock = [1000.0]
        with (
            mock.patch.object(wsgi.time, "monotonic", side_effect=lambda: clock[0]),
            self.assertLogs(logger, "WARNING") as logged,
        ):
            for _ in range(5):
                logger.warning("full: %d", 7)
            logger.warning("full: %d", 8)  # another server
            logger.warning("another kind")
            clock[0] += 61
            logger.warning("full: %d", 7)
        self.assertEqual(
            logged.output,
            [
                "WARNING:tests.rate_limit:full: 7",
                "WARNING:tests.rate_limit:full: 7",
                "WARNING:tests.rate_limit:full: 8",
                "WARNING:tests.rate_limit:another kind",
                "WARNING:tests.rate_limit:full: 7 (3 more like it in the last period)",
            ],
        )
