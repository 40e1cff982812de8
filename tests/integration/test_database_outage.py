"""The database goes away and comes back: the API answers 503, then recovers.

Nova reaches a real PostgreSQL server through a TCP relay the test can cut:
cutting drops every open connection and refuses new ones (what a network
partition or a stopped server looks like to a client); restoring listens on
the same port again.
"""

from __future__ import annotations

import socket
import threading

from sqlalchemy.engine import make_url

import nova.conf
from nova.db import session as db_session
from tests.fixtures import api as api_fixtures

CONF = nova.conf.CONF


class TCPRelay:
    """Relays 127.0.0.1:``port`` to ``upstream`` until cut."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = 0
        self._listener: socket.socket | None = None
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        """Listen (again, on the same port) and relay every connection."""
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        """Drop every relayed connection and stop listening (new ones are refused)."""
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        if self._listener is not None:
            # shutdown() wakes the thread blocked in accept(); close() alone
            # would leave the port listening until then.
            try:
                self._listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._listener.close()
            self._listener = None
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _address = listener.accept()
            except OSError:
                return  # cut
            try:
                server = socket.create_connection(self.upstream, timeout=10)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self._sockets.update((client, server))
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


class DatabaseOutagePostgreSQLTestCase(api_fixtures.APITestCase):
    BACKEND = "postgresql"

    def setUp(self) -> None:
        super().setUp()
        url = make_url(self.db_url)
        self.relay = TCPRelay((url.host, url.port))
        self.relay.start()
        self.addCleanup(self.relay.cut)
        relayed = url.set(host="127.0.0.1", port=self.relay.port)
        CONF.set_override(
            "connection", relayed.render_as_string(hide_password=False), group="database"
        )
        db_session.dispose_engine()

    def assert_unavailable(self, response) -> None:
        self.assertEqual(response.status_int, 503, response.text)
        self.assertIn("unavailable", response.json["serviceUnavailable"]["message"])
        self.assertNotIn("Traceback", response.text)

    def test_outage_is_503_and_the_api_recovers(self):
        server_id = self.create_server(name="before")
        self.assertEqual(self.request("GET", f"/v2.1/servers/{server_id}").status_int, 200)

        self.relay.cut()  # open pooled connections die, new ones are refused
        self.assert_unavailable(self.request("GET", f"/v2.1/servers/{server_id}"))
        self.assert_unavailable(
            self.request("GET", f"/v2.1/servers/{server_id}/os-virtual-interfaces")
        )
        self.assert_unavailable(self.request("GET", "/v2.1/servers/detail"))
        self.assert_unavailable(
            self.request(
                "POST",
                "/v2.1/servers",
                {"server": {"name": "during", "imageRef": "cirros", "flavorRef": "1"}},
            )
        )
        self.assert_unavailable(self.request("DELETE", f"/v2.1/servers/{server_id}"))

        self.relay.start()
        shown = self.request("GET", f"/v2.1/servers/{server_id}")
        self.assertEqual(shown.status_int, 200, shown.text)
        names = [s["name"] for s in self.request("GET", "/v2.1/servers").json["servers"]]
        self.assertEqual(names, ["before"])  # nothing from the outage was written
        self.create_server(name="after")
        self.assertEqual(self.request("DELETE", f"/v2.1/servers/{server_id}").status_int, 204)
