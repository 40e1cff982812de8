"""``nova-all``: the whole cloud in one process (the embedded default).

API, scheduler and compute share the process, talk over the in-process
``fake://`` transport, keep their state in SQLite and run guests on
libvirt's ``test:///default``; with ``[quantum] embedded`` the reference
Quantum service runs here too. The schema is created or upgraded on start.
"""

from __future__ import annotations

import logging
import sys

import nova.conf
from nova import service
from nova import wsgi_server
from nova.api.openstack import router
from nova.cmd import common
from nova.compute import manager as compute_manager
from nova.db import migration
from nova.network.quantum import embedded
from nova.scheduler import manager as scheduler_manager

CONF = nova.conf.CONF
LOG = logging.getLogger("nova.all")

#: Threads of ``nova-all``'s API server and RPC handler threads per service.
#: Everything shares one process and one GIL: beyond a few runnable
#: threads, more only hand the GIL (and SQLite's one writer) back and forth,
#: which costs CPU in the kernel. Requests beyond ``API_THREADS`` wait in
#: the server's queue. ``[DEFAULT] executor_thread_pool_size`` set by the
#: operator wins over ``RPC_THREADS``.
API_THREADS = 4
RPC_THREADS = 2


def build(api_port: int | None = None) -> tuple[list, list]:
    """Return the services and WSGI servers of ``nova-all``, not started."""
    CONF.set_default("executor_thread_pool_size", RPC_THREADS)
    servers = []
    if CONF.quantum.embedded:
        servers.append(embedded.server())
    services = [
        service.Service("nova-scheduler", "scheduler", scheduler_manager.SchedulerManager()),
        service.Service("nova-compute", "compute", compute_manager.ComputeManager()),
    ]
    servers.append(
        wsgi_server.WSGIServer(
            router.build_app(),
            CONF.osapi_compute_listen,
            CONF.osapi_compute_listen_port if api_port is None else api_port,
            threads=API_THREADS,
            name="nova-api",
        )
    )
    return services, servers


def main(argv=None) -> int:
    """Run the embedded cloud until SIGTERM."""
    if not common.setup(argv):
        return 1
    try:
        result = migration.db_sync()
        for line in result.steps:
            LOG.info("Database %s", line)
        services, servers = build()
    except Exception as exc:  # noqa: BLE001 - one line for the operator
        LOG.debug("start-up failed", exc_info=True)
        print(f"ERROR: nova-all cannot start: {exc}", file=sys.stderr)
        return 1
    # The network service first (compute needs it), the API last.
    service.run([], [*servers[:-1], *services, servers[-1]])
    return 0


if __name__ == "__main__":
    sys.exit(main())
