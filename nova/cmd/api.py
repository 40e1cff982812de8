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


def gunicorn_options() -> dict:
    """Return gunicorn's settings from Nova's options."""
    return {
        "bind": f"{CONF.osapi_compute_listen}:{CONF.osapi_compute_listen_port}",
        "workers": CONF.osapi_compute_workers or multiprocessing.cpu_count(),
        "worker_class": "gthread",
        "threads": 4,
        "timeout": 120,
        "graceful_timeout": 30,
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
