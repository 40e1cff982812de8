"""A threaded WSGI server (cheroot) that can run inside another process.

``nova-all`` serves the compute API and the embedded Quantum service with it;
``nova-api`` alone uses gunicorn's worker processes instead.
"""

from __future__ import annotations

import http
import logging
import socket
import threading

from cheroot import wsgi as cheroot_wsgi

LOG = logging.getLogger(__name__)

#: Connections the kernel may hold for ``accept``. cheroot's default (5)
#: overflows when a few dozen clients connect at once: the kernel then
#: answers with SYN cookies, and clients whose cookie fails get a reset.
LISTEN_BACKLOG = socket.SOMAXCONN


class Response:
    """A finished response (status, headers, body), served straight to the WSGI server.

    What the compute and Quantum APIs answer is always whole and small, so
    it needs none of ``webob.Response``'s machinery on the way out. As HTTP
    requires (and cheroot does not enforce), a 204 carries no
    ``Content-Length`` and the answer to a HEAD no body, whatever its status:
    a keep-alive client would read a body it did not expect as the start of
    the next response.
    """

    __slots__ = ("status_int", "headerlist", "body")

    def __init__(self, status: int, body: bytes | None = None, content_type: str | None = None):
        self.status_int = status
        self.body = body or b""
        self.headerlist: list[tuple[str, str]] = []
        if body is not None and content_type:
            self.headerlist.append(("Content-Type", content_type))
        if status != http.HTTPStatus.NO_CONTENT:
            self.headerlist.append(("Content-Length", str(len(self.body))))

    @property
    def content_length(self) -> int:
        return len(self.body)

    def __call__(self, environ, start_response):
        start_response(STATUS_LINES[self.status_int], self.headerlist)
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else [self.body]


STATUS_LINES = {status.value: f"{status.value} {status.phrase}" for status in http.HTTPStatus}


class WSGIServer:
    """``app`` on ``host:port`` (0: any free port), served by ``threads`` threads."""

    def __init__(self, app, host: str, port: int, threads: int = 16, name: str = "wsgi") -> None:
        self.app = app
        self.name = name
        self._server = cheroot_wsgi.Server(
            (host, port),
            app,
            numthreads=threads,
            server_name=name,
            request_queue_size=LISTEN_BACKLOG,
        )
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Return the base URL the server listens on (once started)."""
        host, port = self._server.bind_addr[:2]
        return f"http://{host}:{port}"

    def start(self) -> None:
        """Listen, then serve in a background thread."""
        self._server.prepare()
        self._thread = threading.Thread(target=self._server.serve, name=self.name, daemon=True)
        self._thread.start()
        LOG.info("%s listening on %s", self.name, self.url)

    def serve_forever(self) -> None:
        """Listen and serve in this thread until ``stop``."""
        self._server.prepare()
        LOG.info("%s listening on %s", self.name, self.url)
        self._server.serve()

    def stop(self) -> None:
        """Stop listening and wait for the serving thread."""
        self._server.stop()
        if self._thread is not None:
            self._thread.join(timeout=10)
