"""``nova-api``: the compute API under gunicorn, with several worker processes."""

from __future__ import annotations

import logging
import multiprocessing
import sys
from collections.abc import Sequence

from gunicorn.app import base as gunicorn_base

import nova.conf
from nova.cmd import common
from servicekit import wsgi

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)


class APIServer(gunicorn_base.BaseApplication):
    """gunicorn running the compute API; each worker builds its own app."""

    def __init__(self, options: dict) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from nova.api.openstack import router

        return router.build_app()


#: Longest request line gunicorn accepts, whatever its setting says.
GUNICORN_MAX_REQUEST_LINE = 8190


def gunicorn_options() -> dict:
    """Return gunicorn's settings from Nova's options (``[wsgi]`` as nova-all applies them).

    gunicorn's ``gthread`` worker waits for a new connection's first bytes
    in its event loop (5 s), but then reads the request in a worker thread:
    a client that trickles its request holds that thread until it is done
    (gunicorn's ``timeout`` only restarts a worker whose main loop hangs).
    The limits on lines and fields hold (gunicorn caps the request line at
    8190 bytes); for slow clients put a buffering reverse proxy in front
    (see the README).
    """
    return {
        "bind": f"{CONF.osapi_compute_listen}:{CONF.osapi_compute_listen_port}",
        "workers": CONF.osapi_compute_workers or multiprocessing.cpu_count(),
        "worker_class": "gthread",
        "threads": CONF.wsgi.threads,
        "worker_connections": CONF.wsgi.max_connections,
        "keepalive": CONF.wsgi.client_socket_timeout,
        "timeout": 120,
        "graceful_timeout": 30,
        "limit_request_line": min(CONF.wsgi.max_header_line, GUNICORN_MAX_REQUEST_LINE),
        "limit_request_fields": CONF.wsgi.max_header_count,
        "limit_request_field_size": CONF.wsgi.max_header_line,
        "accesslog": None,
        "proc_name": "nova-api",
        "control_socket_disable": True,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``nova-api --config-file F`` until SIGTERM."""
    if not common.setup(argv):
        return 1
    from nova.api.openstack import router

    try:
        # gunicorn would retry a busy port five times, logging each, then exit.
        wsgi.check_address(
            CONF.osapi_compute_listen,
            CONF.osapi_compute_listen_port,
            "nova-api",
            host_option="[DEFAULT] osapi_compute_listen",
            port_option="[DEFAULT] osapi_compute_listen_port",
        )
        common.check_database()
        common.check_broker()
        router.build_app()  # fail here, once, on a broken extension or config
    except Exception as exc:  # noqa: BLE001 - one line for the operator
        return common.fail("nova-api", exc)
    APIServer(gunicorn_options()).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
