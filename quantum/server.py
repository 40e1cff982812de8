"""``quantum-server``: serve the Quantum API; also embeddable in another process."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Sequence

from cheroot import wsgi as cheroot_wsgi
from oslo_config import cfg

from nova.db import engine as db_engine
from quantum import conf as quantum_conf
from quantum.api import router
from quantum.db import api as db_api
from quantum.db import migration

LOG = logging.getLogger(__name__)


def build_app(conf: cfg.ConfigOpts):
    """Return the WSGI application for ``conf``, its schema created or upgraded."""
    engine = db_engine.create_engine(conf.database.connection)
    migration.upgrade(engine)
    app = router.QuantumApp(conf, db_api.QuantumDatabase(engine))
    if conf.auth_strategy == "keystone":
        from keystonemiddleware import auth_token

        return auth_token.AuthProtocol(app, {"oslo_config_project": "quantum"})
    return app


class Server:
    """The API on a real socket, served by a pool of threads (cheroot)."""

    def __init__(self, conf: cfg.ConfigOpts, app=None) -> None:
        self.app = app if app is not None else build_app(conf)
        self._server = cheroot_wsgi.Server(
            (conf.bind_host, conf.bind_port),
            self.app,
            numthreads=conf.workers_threads,
            server_name="quantum-server",
        )
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Return the base URL the server listens on (valid once started)."""
        host, port = self._server.bind_addr[:2]
        return f"http://{host}:{port}"

    def start(self) -> None:
        """Listen and serve in a background thread; return once listening."""
        self._server.prepare()
        self._thread = threading.Thread(
            target=self._server.serve, name="quantum-server", daemon=True
        )
        self._thread.start()
        LOG.info("Quantum API listening on %s", self.url)

    def serve_forever(self) -> None:
        """Listen and serve in this thread until ``stop``."""
        self._server.prepare()
        LOG.info("Quantum API listening on %s", self.url)
        self._server.serve()

    def stop(self) -> None:
        """Stop listening and wait for the serving thread."""
        self._server.stop()
        if self._thread is not None:
            self._thread.join(timeout=10)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``quantum-server --config-file F`` until SIGTERM or SIGINT."""
    try:
        conf = quantum_conf.parse_args(sys.argv[1:] if argv is None else argv)
    except cfg.Error as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        server = Server(conf)
    except Exception as exc:  # noqa: BLE001 - one line for the operator
        LOG.debug("start-up failed", exc_info=True)
        print(f"ERROR: quantum-server cannot start: {exc}", file=sys.stderr)
        return 1

    def shutdown(signum, _frame):
        LOG.info("Signal %d received, stopping", signum)
        threading.Thread(target=server.stop).start()

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
