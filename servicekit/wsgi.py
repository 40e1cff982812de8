"""HTTP serving: a threaded WSGI server (cheroot) and the APIs' response class.

The server runs in a thread of its own or of the caller, so one process can
serve several APIs (Nova's ``nova-all`` serves the compute API and an
embedded Quantum service); a port it cannot listen on is a ``BindError``.
"""

from __future__ import annotations

import errno
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


class BindError(Exception):
    """A server cannot listen on its address (in use, not this host's, not allowed)."""

    def __init__(self, host: str, port: int, reason: str) -> None:
        super().__init__(f"cannot listen on {host}:{port}: {reason}")
        self.host = host
        self.port = port
        self.reason = reason


def bind_error(
    error: OSError, host: str, port: int, name: str, host_option: str = "", port_option: str = ""
) -> BindError:
    """Return the ``BindError`` saying why server ``name`` cannot listen on ``host:port``.

    ``host_option`` and ``port_option`` name the options that set ``host``
    and ``port``: the message says which one to change.
    """
    question, option = {
        errno.EADDRINUSE: (f"is another {name} running?", port_option),
        errno.EADDRNOTAVAIL: ("not an address of this host?", host_option),
        errno.EACCES: ("a privileged port?", port_option),
    }.get(error.errno or 0, ("", port_option))
    hint = " ".join(filter(None, [question, f"change {option}" if option else ""]))
    reason = (error.strerror or str(error)).lower()
    return BindError(host, port, f"{reason} ({hint})" if hint else reason)


def check_address(
    host: str, port: int, name: str, host_option: str = "", port_option: str = ""
) -> None:
    """Check that ``host:port`` can be listened on now, for servers that bind it themselves.

    :raises BindError: it cannot (see ``bind_error``).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            # As the server will: a port whose connections linger in TIME_WAIT is free.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        raise bind_error(exc, host, port, name, host_option, port_option) from exc


class _CherootServer(cheroot_wsgi.Server):
    """cheroot's server, keeping why binding failed (its own error only has text)."""

    last_bind_error: OSError | None = None

    def bind(self, family, socket_type, proto=0):
        try:
            return super().bind(family, socket_type, proto)
        except OSError as exc:
            self.last_bind_error = exc
            raise


class WSGIServer:
    """``app`` on ``host:port`` (0: any free port), served by ``threads`` threads.

    ``host_option`` and ``port_option`` name the options that set them, for
    the ``BindError`` raised when the server cannot listen there.
    """

    def __init__(
        self,
        app,
        host: str,
        port: int,
        threads: int = 16,
        name: str = "wsgi",
        host_option: str = "",
        port_option: str = "",
    ) -> None:
        self.app = app
        self.name = name
        self.host_option = host_option
        self.port_option = port_option
        self._server = _CherootServer(
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

    def listen(self) -> None:
        """Bind and listen, if not yet; ``start`` or ``serve_forever`` then serve.

        Connections made before serving wait in the listen backlog.

        :raises BindError: the address is in use or cannot be bound.
        """
        if self._server.ready:
            return
        try:
            self._server.prepare()
        except OSError as exc:
            cause = self._server.last_bind_error or exc
            host, port = self._server.bind_addr[:2]
            error = bind_error(cause, host, port, self.name, self.host_option, self.port_option)
            raise error from cause
        LOG.info("%s listening on %s", self.name, self.url)

    def start(self) -> None:
        """Listen, then serve in a background thread.

        :raises BindError: the server cannot listen on its address.
        """
        self.listen()
        self._thread = threading.Thread(target=self._server.serve, name=self.name, daemon=True)
        self._thread.start()

    def serve_forever(self) -> None:
        """Listen and serve in this thread until ``stop``.

        :raises BindError: the server cannot listen on its address.
        """
        self.listen()
        self._server.serve()

    def stop(self) -> None:
        """Stop listening and wait for the serving thread."""
        self._server.stop()
        if self._thread is not None:
            self._thread.join(timeout=10)
