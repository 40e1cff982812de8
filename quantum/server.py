"""``quantum-server``: serve the Quantum API; also embeddable in another process."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Sequence

from oslo_config import cfg
from oslo_log import log
from oslo_middleware import http_proxy_to_wsgi

from quantum import conf as quantum_conf
from quantum.api import router
from quantum.api import wsgi as api_wsgi
from quantum.db import api as db_api
from quantum.db import migration
from servicekit import db as servicekit_db
from servicekit import keystone
from servicekit import wsgi

LOG = logging.getLogger(__name__)


def build_app(conf: cfg.ConfigOpts, token_check: keystone.TokenCheck | None = None):
    """Return the WSGI application for ``conf``, its schema created or upgraded.

    :param token_check: keystonemiddleware's check to use instead of ``conf``'s own.
    """
    engine = servicekit_db.create_engine(
        conf.database.connection,
        max_write_wait=conf.database.max_write_wait,
        sqlite_synchronous=conf.database.sqlite_synchronous,
    )
    migration.upgrade(engine)
    # With auth_strategy = keystone the app runs keystonemiddleware itself
    # (on conf's [keystone_authtoken]); the version documents need no token.
    app = router.QuantumApp(conf, db_api.QuantumDatabase(engine), token_check)
    if conf.oslo_middleware.enable_proxy_headers_parsing:
        # Outermost: the client's scheme and host, as the trusted proxy says them.
        return http_proxy_to_wsgi.HTTPProxyToWSGI(app, conf)
    return app


class Server(wsgi.WSGIServer):
    """The Quantum API on a real socket, served by a pool of threads."""

    #: The options that set where it listens, named when it cannot listen there.
    host_option = "bind_host"
    port_option = "bind_port"

    def __init__(self, conf: cfg.ConfigOpts, app=None) -> None:
        super().__init__(
            app if app is not None else build_app(conf),
            conf.bind_host,
            conf.bind_port,
            name="quantum-server",
            host_option=self.host_option,
            port_option=self.port_option,
            limits=limits(conf),
            fault_body=api_wsgi.server_fault,
        )


def limits(conf: cfg.ConfigOpts) -> wsgi.Limits:
    """Return what one client may make the server hold, from ``conf``."""
    return wsgi.Limits(
        threads=conf.workers_threads,
        connections=conf.max_connections,
        idle_timeout=conf.client_socket_timeout,
        read_timeout=conf.client_request_timeout,
        header_line=conf.max_header_line,
        header_size=conf.max_header_size,
        header_count=conf.max_header_count,
        body_size=conf.max_request_body_size,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``quantum-server --config-file F`` until SIGTERM or SIGINT."""
    try:
        conf = quantum_conf.parse_args(sys.argv[1:] if argv is None else argv)
    except cfg.Error as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1
    # quantum.db.migration logs each step; Alembic would repeat them.
    conf.set_default("default_log_levels", [*conf.default_log_levels, "alembic=WARN"])
    log.setup(conf, "quantum")
    try:
        server = Server(conf)
    except Exception as exc:  # noqa: BLE001 - one line for the operator
        return _fail(exc)

    def shutdown(signum, _frame):
        LOG.info("Signal %d received, stopping", signum)
        threading.Thread(target=server.stop).start()

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    try:
        server.serve_forever()
    except wsgi.BindError as exc:
        return _fail(exc)
    return 0


def _fail(exc: BaseException) -> int:
    """Print why the server cannot start in one line (the traceback goes to the debug log)."""
    LOG.debug("start-up failed", exc_info=exc)
    print(f"ERROR: quantum-server cannot start: {exc}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
