"""HTTP serving: a threaded WSGI server (cheroot) and the APIs' response class.

The server runs in a thread of its own or of the caller, so one process can
serve several APIs (Nova's ``nova-all`` serves the compute API and an
embedded Quantum service); a port it cannot listen on is a ``BindError``.
"""

from __future__ import annotations

import logging
import socket
import threading

import webob
from cheroot import wsgi as cheroot_wsgi

LOG = logging.getLogger(__name__)

#: Connections the kernel may hold for ``accept``. cheroot's default (5)
#: overflows when a few dozen clients connect at once: the kernel then
#: answers with SYN cookies, and clients whose cookie fails get a reset.
LISTEN_BACKLOG = socket.SOMAXCONN


class Response(webob.Response):
    """``webob.Response`` without a default content type: a body-less answer has none.

    WebOb serves the answer to a HEAD without its body and gives a 204 no
    ``Content-Length`` (nor ``Content-Type``), as HTTP requires: a keep-alive
    client would read a body it did not expect as the start of the next
    response. Build one with keywords: ``Response(body=b"...", status=200,
    content_type="application/json")``.
    """

    default_content_type = None


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
