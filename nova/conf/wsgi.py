"""Options of the compute API's HTTP server: ``[wsgi]``.

``nova-all`` serves the API with ``servicekit.wsgi`` (waitress): requests are
read whole before a worker thread runs them, within these limits.
``nova-api`` runs under gunicorn and applies the same limits through
gunicorn's settings where gunicorn has them (see ``nova.cmd.api``).
"""

from __future__ import annotations

from oslo_config import cfg

wsgi_group = cfg.OptGroup(
    "wsgi", title="API server", help="How the compute API's HTTP server treats its clients."
)

wsgi_opts = [
    cfg.IntOpt(
        "threads",
        default=8,
        min=1,
        help="Threads running API requests in nova-all (in each nova-api worker "
        "process: gunicorn's threads). A request is read whole before a thread "
        "takes it, so slow clients do not hold threads; threads wait on the "
        "database and on the network service.",
    ),
    cfg.IntOpt(
        "write_threads",
        default=0,
        min=0,
        help="Threads of their own, in nova-all, for requests that change "
        "something (POST, PUT, DELETE): [wsgi] threads then serve only reads, "
        "so a write waiting on the database (at most [database] "
        "max_write_wait) never holds up a read. 0: all requests share [wsgi] "
        "threads. nova-all sets 1 when the network service and the hypervisor "
        "run in its own process (the embedded Quantum service or the legacy "
        "backend, libvirt's test:// driver): such a write never waits on "
        "anything outside, SQLite takes one writer at a time, and a second "
        "writing thread only trades the GIL with the first (200 launches: 8 "
        "shared threads made 66-78 servers/s, one write thread 87-95). Writes "
        "beyond the threads queue, each waiting for the one before.",
    ),
    cfg.IntOpt(
        "max_connections",
        default=1000,
        min=16,
        help="Open client connections the API server holds (per nova-api worker: "
        "gunicorn's worker_connections). Beyond it new connections wait in the "
        "listen backlog, and nova-all closes the connection idle the longest to "
        "admit one. nova-all lowers it to fit the open-file limit (ulimit -n), "
        "leaving 128 descriptors to the rest of the process, and logs one "
        "warning when it does.",
    ),
    cfg.IntOpt(
        "client_socket_timeout",
        default=60,
        min=1,
        help="Seconds a client connection may stay idle (nothing received or "
        "sent, keep-alive included) before the server closes it.",
    ),
    cfg.IntOpt(
        "client_request_timeout",
        default=60,
        min=1,
        help="Seconds a client has to send one whole request (request line, "
        "headers and body) once it has started; past it the connection is "
        "closed. Bounds clients that trickle a request byte by byte.",
    ),
    cfg.IntOpt(
        "max_header_line",
        default=16384,
        min=1024,
        help="Longest request line or header line, in bytes: a longer request "
        "line is refused with 414, a longer header with 431. Large Keystone "
        "tokens may need more.",
    ),
    cfg.IntOpt(
        "max_header_size",
        default=65536,
        min=4096,
        help="Largest header block of a request (request line and every header), "
        "in bytes; larger: 431, and no more of it is read.",
    ),
    cfg.IntOpt(
        "max_header_count",
        default=100,
        min=10,
        help="Most header fields in one request; more: 431.",
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register the API server's options on ``conf``."""
    conf.register_group(wsgi_group)
    conf.register_opts(wsgi_opts, group=wsgi_group)


def list_opts() -> dict:
    """Return the options of this module by group, for the sample generator."""
    return {wsgi_group: wsgi_opts}
