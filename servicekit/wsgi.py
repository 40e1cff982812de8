"""HTTP serving: an event-driven WSGI server (waitress) and the APIs' response class.

The server runs in a thread of its own or of the caller, so one process can
serve several APIs (Nova's ``nova-all`` serves the compute API and an
embedded Quantum service); a port it cannot listen on is a ``BindError``.

One thread reads every connection without blocking (waitress's channels) and
hands a request to the pool of worker threads only once it has been read
whole, headers and body: a client that sends slowly, or not at all, holds a
connection slot, never a worker thread. ``Limits`` bounds what a client may
make the server hold (see its fields); requests whose framing is ambiguous
(RFC 9112: ``Content-Length`` with ``Transfer-Encoding``, several or invalid
lengths) are refused with 400 and the connection closed, as are header
blocks over the limits (431, or 414 for the request line), before the
application sees them.
"""

from __future__ import annotations

import errno
import http
import logging
import resource
import select
import socket
import threading
import time
import weakref
from collections.abc import Callable
from typing import NamedTuple

import webob
from waitress import channel as waitress_channel
from waitress import parser as waitress_parser
from waitress import server as waitress_server
from waitress import task as waitress_task
from waitress import utilities as waitress_utilities
from waitress import wasyncore

LOG = logging.getLogger(__name__)

#: Connections the kernel may hold for ``accept``: those beyond
#: ``Limits.connections`` wait here. A small backlog overflows when a few
#: dozen clients connect at once: the kernel then answers with SYN cookies,
#: and clients whose cookie fails get a reset.
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


class Limits(NamedTuple):
    """What one client may make a server hold; beyond it the request or connection is refused."""

    #: Worker threads running the application (requests read whole wait for one).
    threads: int = 8
    #: Worker threads of their own for requests that change something (not
    #: GET, HEAD or OPTIONS); ``threads`` then serve only the others. 0: every
    #: request shares ``threads``. One, in a process where every write runs
    #: on one database writer and one GIL: the writes queue without a thread
    #: each, and a write waiting on a lock never holds up a read.
    write_threads: int = 0
    #: Open connections; beyond it new ones wait in the listen backlog (and the
    #: connection idle the longest is closed to admit them). Lowered to what
    #: the process's open-file limit allows (see ``connection_limit``).
    connections: int = 1000
    #: Seconds a connection may stay with nothing received or sent.
    idle_timeout: float = 60
    #: Seconds a client has to send one whole request (line, headers, body).
    read_timeout: float = 60
    #: Longest request line or header line, in bytes (longer: 414 / 431).
    header_line: int = 16384
    #: Largest header block, request line included (larger: 431).
    header_size: int = 65536
    #: Most header fields in one request (more: 431).
    header_count: int = 100
    #: Largest request body (larger: 413, not read).
    body_size: int = 1024 * 1024


#: File descriptors left to the rest of the process (database, logs, libvirt,
#: clients of other services) when the open-file limit caps the connections.
FD_RESERVE = 128

#: Fewest connections a server accepts, whatever the open-file limit.
MIN_CONNECTIONS = 16

#: When all connection slots are taken and a client waits, the connection
#: idle the longest is closed if it has been idle at least this long.
EVICT_IDLE_AFTER = 1.0

#: ``(status code, message) -> (content type, body)`` of an answer the server
#: itself gives (framing errors, limits), in the service's fault format.
FaultBody = Callable[[int, str], tuple[str, bytes]]


def plain_fault(code: int, message: str) -> tuple[str, bytes]:
    """Return ``message`` as a text/plain fault body."""
    return "text/plain; charset=utf-8", message.encode("utf-8")


class RateLimit(logging.Filter):
    """Let ``burst`` records of one kind through per ``interval`` seconds.

    A kind is the message's format, with its first argument when
    ``by_first_arg`` (the server's name, in this module's messages); records
    below ``level`` pass freely.
    The first record of a kind after its interval says how many were held
    back.
    """

    def __init__(
        self,
        burst: int = 1,
        interval: float = 60.0,
        level: int = logging.NOTSET,
        by_first_arg: bool = True,
    ) -> None:
        super().__init__()
        self.by_first_arg = by_first_arg
        self.burst = burst
        self.interval = interval
        self.level = level
        self._lock = threading.Lock()
        self._windows: dict[object, list] = {}  # kind: [window start, passed, held back]

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < self.level:
            return True
        args = record.args if isinstance(record.args, tuple) else ()
        kind = (record.msg, args[0] if args and self.by_first_arg else None)
        now = time.monotonic()
        with self._lock:
            window = self._windows.setdefault(kind, [now, 0, 0])
            if now - window[0] >= self.interval:
                held_back = window[2]
                window[:] = [now, 0, 0]
                if held_back:
                    record.msg = f"{record.msg} ({held_back} more like it in the last period)"
            if window[1] >= self.burst:
                window[2] += 1
                return False
            window[1] += 1
            return True


# One warning per minute per server and kind of trouble (connection limit
# reached, accept failing); clients hanging up: ten lines a minute at most.
LOG.addFilter(RateLimit(burst=1, interval=60.0, level=logging.WARNING))
CLIENT_LOG = logging.getLogger(f"{__name__}.clients")
CLIENT_LOG.addFilter(RateLimit(burst=10, interval=60.0))
# waitress's own: "Task queue depth is N", once per request while every
# worker is busy, and the rare socket error it still logs.
for _name in ("waitress", "waitress.queue"):
    logging.getLogger(_name).addFilter(RateLimit(burst=1, interval=60.0, by_first_arg=False))


def connection_limit(wanted: int, servers: int = 1) -> int:
    """Return the connections one of ``servers`` servers may hold under the open-file limit.

    Every connection is a file descriptor: a server accepting past the
    process's soft ``RLIMIT_NOFILE`` fails every ``accept`` (and the
    application its files), so ``FD_RESERVE`` descriptors are left to the
    rest of the process and the remainder shared among its servers.
    """
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(MIN_CONNECTIONS, min(wanted, (soft - FD_RESERVE) // max(servers, 1)))


class _FrontError(waitress_utilities.Error):
    """An answer the server gives before the application runs."""

    def __init__(self, code: int, reason: str, body: str) -> None:
        super().__init__(body)
        self.code = code
        self.reason = reason


class _Parser(waitress_parser.HTTPRequestParser):
    """waitress's parser, with RFC 9112's framing rules and limits on lines and fields."""

    def __init__(self, adj) -> None:
        super().__init__(adj)
        self.started = time.monotonic()

    def parse_header(self, header_plus: bytes) -> None:
        limits: Limits = self.adj.limits
        first_line, _, rest = header_plus.partition(b"\r\n")
        http10 = first_line.endswith(b"HTTP/1.0")
        if len(first_line) > limits.header_line:
            return self._refuse(414, "The request line is too long.", http10)
        lines = rest.split(b"\r\n") if rest else []
        if len(lines) > limits.header_count:
            return self._refuse(431, f"More than {limits.header_count} header fields.", http10)
        if any(len(line) > limits.header_line for line in lines):
            return self._refuse(431, "A header field is too long.", http10)
        names = [line.partition(b":")[0].strip().lower() for line in lines]
        lengths = names.count(b"content-length")
        if b"transfer-encoding" in names:
            if lengths:
                # RFC 9112 6.1: a request smuggling attempt, or a broken proxy.
                message = "Content-Length and Transfer-Encoding in one request."
                return self._refuse(400, message, http10)
            if http10:
                return self._refuse(400, "Transfer-Encoding in an HTTP/1.0 request.", http10)
        if lengths > 1:
            return self._refuse(400, "More than one Content-Length.", http10)
        return super().parse_header(header_plus)

    def _refuse(self, code: int, message: str, http10: bool) -> None:
        # As waitress does for an oversized header block: a stand-in request
        # (closing the connection after the answer), then the error.
        version = b"HTTP/1.0" if http10 else b"HTTP/1.1"
        super().parse_header(b"GET / " + version + b"\r\nConnection: close\r\n")
        self.error = _FrontError(code, http.HTTPStatus(code).phrase, message)
        self.completed = True


class _ErrorTask(waitress_task.ErrorTask):
    """The server's own answers (400, 413, 414, 431, 501) in the service's fault format."""

    def execute(self) -> None:
        error = self.request.error
        limits: Limits = self.channel.server.adj.limits
        message = {
            413: f"The request body is larger than {limits.body_size} bytes.",
            431: f"The request's header is larger than {limits.header_size} bytes.",
        }.get(error.code, str(error.body))
        if isinstance(error, _FrontError):
            message = str(error.body)
        content_type, body = self.channel.server.fault_body(error.code, message)
        self.status = f"{error.code} {error.reason}"
        self.response_headers.append(("Content-Type", content_type))
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class _Channel(waitress_channel.HTTPChannel):
    """One client connection: says in one line when a client hangs up mid-body."""

    parser_class = _Parser
    error_task_class = _ErrorTask

    def handle_close(self) -> None:
        request = self.request
        if (
            request is not None
            and request.headers_finished
            and not request.completed
            and not self.will_close  # closed by us (timeout, eviction), not by the client
        ):
            CLIENT_LOG.info(
                "%s: client %s hung up %d bytes into the %s body of %s %s",
                self.server.name,
                self.addr[0] if isinstance(self.addr, tuple) else self.addr,
                request.body_bytes_received,
                "chunked" if request.chunked else f"{request.content_length}-byte",
                request.command,
                request.path,
            )
        super().handle_close()


#: Methods that change nothing: ``Limits.threads`` serve them.
READ_METHODS = frozenset(("GET", "HEAD", "OPTIONS"))


class _WriteQueue(waitress_task.ThreadedTaskDispatcher):
    """The write threads' queue: writes waiting their turn is its purpose, not a warning."""

    queue_logger = logging.getLogger(f"{__name__}.write_queue")


_WriteQueue.queue_logger.setLevel(logging.ERROR)


class _SplitDispatcher:
    """waitress's task dispatcher, as two pools: ``reads`` and ``writes`` threads.

    waitress hands over a connection (its channel) whose next request
    (``requests[0]``, read whole) is due; its method picks the pool.
    """

    def __init__(self, reads: int, writes: int) -> None:
        self.reads = waitress_task.ThreadedTaskDispatcher()
        self.reads.set_thread_count(reads)
        self.writes = _WriteQueue()
        self.writes.set_thread_count(writes)

    def add_task(self, channel) -> None:
        request = channel.requests[0]
        reads = request.error is not None or request.command in READ_METHODS
        (self.reads if reads else self.writes).add_task(channel)

    def set_thread_count(self, count: int) -> None:
        self.reads.set_thread_count(count)

    def shutdown(self, cancel_pending: bool = True, timeout: float = 5) -> bool:
        done = self.reads.shutdown(cancel_pending, timeout)
        return self.writes.shutdown(cancel_pending, timeout) and done


class _Server(waitress_server.TcpWSGIServer):
    """waitress's TCP server: read deadlines, eviction of idle connections, quiet accept errors."""

    channel_class = _Channel
    name = "wsgi"
    fault_body: FaultBody = staticmethod(plain_fault)
    accept_paused_until = 0.0
    next_channel_cleanup: float = 0.0
    in_connection_overflow: bool = False

    def readable(self) -> bool:
        now = time.time()
        if now >= self.next_channel_cleanup:
            self.next_channel_cleanup = now + self.adj.cleanup_interval
            self.maintenance(now)
        if not self.accepting or time.monotonic() < self.accept_paused_until:
            return False
        full = len(self._map) >= self.adj.connection_limit
        if full and not self.in_connection_overflow:
            LOG.warning(
                "%s: %d connections open, the limit: new ones wait (or an idle one is closed)",
                self.name,
                self.adj.connection_limit,
            )
        self.in_connection_overflow = full
        if full and self._someone_waits():
            self._evict_idlest()
        return not full

    def _someone_waits(self) -> bool:
        poller = select.poll()
        poller.register(self.socket, select.POLLIN)
        return bool(poller.poll(0))

    def _evict_idlest(self) -> None:
        cutoff = time.time() - EVICT_IDLE_AFTER
        idle = [
            channel
            for channel in self.active_channels.values()
            if not channel.requests and not channel.will_close and channel.last_activity < cutoff
        ]
        if idle:
            # Closed on its next write event (this loop round); the slot frees then.
            min(idle, key=lambda channel: channel.last_activity).will_close = True

    def maintenance(self, now: float) -> None:
        super().maintenance(now)
        deadline = time.monotonic() - self.adj.limits.read_timeout
        for channel in self.active_channels.values():
            request = channel.request
            if request is not None and not request.completed and request.started < deadline:
                channel.will_close = True

    def handle_accept(self) -> None:
        try:
            accepted = self.accept()
        except OSError as exc:
            if exc.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                # The listening socket stays readable: without a pause this
                # would spin, failing (and logging) at every turn of the loop.
                self.accept_paused_until = time.monotonic() + 1.0
                LOG.warning(
                    "%s: cannot accept a connection (%s) with %d open; trying again in 1 s",
                    self.name,
                    exc.strerror,
                    len(self.active_channels),
                )
            return  # else the client left before we accepted: nothing to do
        if accepted is None:
            return
        conn, addr = accepted
        try:
            self.set_socket_options(conn)
        except OSError:
            conn.close()  # closed by the client already
            return
        self.channel_class(self, conn, self.fix_addr(addr), self.adj, map=self._map)


def _call_in_loop(server: _Server, call: Callable[[], None]) -> None:
    """Have the serving loop's thread run ``call`` (waitress's trigger, without its race).

    ``trigger.pull_trigger(thunk)`` queues the thunk, then writes the
    wake-up byte. When the loop is already awake (a channel pulled the
    trigger to flush a response), it can run the thunk in between; a thunk
    that closes the trigger then makes the write fail with ``EBADF``, or
    land on a descriptor reused meanwhile. Holding the trigger's lock
    across both keeps the thunk from running before its wake-up is written.
    """
    trigger = server.trigger
    with trigger.lock:
        trigger.thunks.append(call)
        trigger._physical_pull()


class WSGIServer:
    """``app`` on ``host:port`` (0: any free port), served by ``threads`` threads.

    ``limits`` bounds what clients may make it hold (``Limits()`` by
    default; ``threads``, when given, replaces its thread count);
    ``fault_body`` formats the answers the server gives itself. ``host_option``
    and ``port_option`` name the options that set host and port, for the
    ``BindError`` raised when the server cannot listen there.
    """

    #: Servers made in this process: they share its open-file limit.
    _instances: weakref.WeakSet[WSGIServer] = weakref.WeakSet()

    def __init__(
        self,
        app,
        host: str,
        port: int,
        threads: int | None = None,
        name: str = "wsgi",
        host_option: str = "",
        port_option: str = "",
        limits: Limits | None = None,
        fault_body: FaultBody | None = None,
    ) -> None:
        self.app = app
        self.name = name
        self.host = host
        self.port = port
        self.host_option = host_option
        self.port_option = port_option
        self.limits = limits or Limits()
        if threads is not None:
            self.limits = self.limits._replace(threads=threads)
        self.fault_body = fault_body or plain_fault
        self._server: _Server | None = None
        self._loop_thread: threading.Thread | None = None
        self._done = threading.Event()  # set when the serving loop has ended
        self._instances.add(self)

    @property
    def url(self) -> str:
        """Return the base URL the server listens on (once listening)."""
        assert self._server is not None, "listen() first"
        return f"http://{self._server.effective_host}:{self._server.effective_port}"

    def listen(self) -> None:
        """Bind and listen, if not yet; ``start`` or ``serve_forever`` then serve.

        Connections made before serving wait in the listen backlog.

        :raises BindError: the address is in use or cannot be bound.
        """
        if self._server is not None:
            return
        limits = self.limits
        connections = connection_limit(limits.connections, len(self._instances))
        if connections < limits.connections:
            LOG.warning(
                "%s: at most %d connections, not %d: the open-file limit (ulimit -n %d) "
                "is shared by %d server(s)",
                self.name,
                connections,
                limits.connections,
                resource.getrlimit(resource.RLIMIT_NOFILE)[0],
                len(self._instances),
            )
        try:
            server = _Server(
                self.app,
                host=self.host,
                port=self.port,
                threads=limits.threads,
                connection_limit=connections,
                channel_timeout=limits.idle_timeout,
                cleanup_interval=max(1, int(min(limits.idle_timeout, limits.read_timeout) // 4)),
                max_request_header_size=limits.header_size,
                # waitress refuses a body of this size or more; the limit is inclusive.
                max_request_body_size=limits.body_size + 1,
                backlog=LISTEN_BACKLOG,
                # poll(), not select(): descriptors past 1023 are fine.
                asyncore_use_poll=True,
                # A client resetting its connection is not the server's error.
                log_socket_errors=False,
                expose_tracebacks=False,
                ident="",
                dispatcher=(
                    _SplitDispatcher(limits.threads, limits.write_threads)
                    if limits.write_threads
                    else None  # waitress's own, with limits.threads
                ),
                _start=False,
            )
        except OSError as exc:
            raise bind_error(
                exc, self.host, self.port, self.name, self.host_option, self.port_option
            ) from exc
        server.adj.limits = limits
        server.name = self.name
        server.fault_body = self.fault_body
        server.accept_connections()
        self._server = server
        LOG.info("%s listening on %s", self.name, self.url)

    def start(self) -> None:
        """Listen, then serve in a background thread.

        :raises BindError: the server cannot listen on its address.
        """
        self.listen()
        threading.Thread(target=self._serve, name=self.name, daemon=True).start()

    def serve_forever(self) -> None:
        """Listen and serve in this thread until ``stop``.

        :raises BindError: the server cannot listen on its address.
        """
        self.listen()
        self._serve()

    def _serve(self) -> None:
        assert self._server is not None
        self._loop_thread = threading.current_thread()
        try:
            self._server.run()
        finally:
            self._done.set()

    def stop(self) -> None:
        """Stop listening, close every connection and wait for the serving loop to end."""
        server, self._server = self._server, None
        if server is None:
            return
        loop = self._loop_thread
        if loop is not None and loop is not threading.current_thread() and not self._done.is_set():
            # The loop's own thread closes the sockets; the loop then ends (an empty map).
            _call_in_loop(server, lambda: wasyncore.close_all(server._map))
            self._done.wait(timeout=10)
        else:
            wasyncore.close_all(server._map)
        server.task_dispatcher.shutdown(timeout=5)
