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
from nova.api.openstack import router
from nova.api.openstack import wsgi as api_wsgi
from nova.cmd import common
from nova.compute import manager as compute_manager
from nova.db import migration
from nova.network.quantum import embedded
from nova.scheduler import manager as scheduler_manager
from servicekit import wsgi

CONF = nova.conf.CONF
LOG = logging.getLogger("nova.all")

#: RPC handler threads per service, when every call it makes stays in this
#: process (the embedded Quantum service or the legacy backend, libvirt's
#: ``test://`` driver) and when it waits on something outside (a separate
#: network service, a hypervisor). Everything shares one process and one
#: GIL: with nothing to wait for, a second thread only takes the GIL (and
#: SQLite's one writer) in turns with the first, and every hand-over is a
#: context switch. Measured at 200 launches (8 rounds): 1 API and 1 RPC
#: thread switched ~8,000 times and used 14 % less CPU than 4 and 2
#: (~25,000 switches). Nova's own services run in one OS thread too
#: (eventlet). ``[DEFAULT] executor_thread_pool_size`` set by the operator
#: wins. The API's threads are ``[wsgi] threads``: its server reads each
#: request whole before a thread takes it, so a slow client holds no thread,
#: but a request waiting on the database or the network service does. Reads
#: keep those threads (a write stuck on a lock held by another process must
#: not stop them); writes get one thread of their own when all is in
#: process (``[wsgi] write_threads``): measured at 200 launches, 4 rounds
#: interleaved, 8 shared threads made 66-78 servers/s, one thread 87-95.
IN_PROCESS_RPC_THREADS = 1
WAITING_RPC_THREADS = 8


def all_in_process(conf=CONF) -> bool:
    """Return whether every call the services make stays in this process (see above)."""
    network_in_process = conf.network.backend == "legacy" or (
        conf.network.backend == "quantum" and conf.quantum.embedded
    )
    return network_in_process and conf.libvirt.connection_uri.startswith("test://")


def rpc_threads(conf=CONF) -> int:
    """Return the RPC thread count per service for this configuration (see above)."""
    return IN_PROCESS_RPC_THREADS if all_in_process(conf) else WAITING_RPC_THREADS


def build(api_port: int | None = None) -> tuple[list, list]:
    """Return the services and WSGI servers of ``nova-all``, not started."""
    rpc = rpc_threads()
    CONF.set_default("executor_thread_pool_size", rpc)
    if all_in_process():
        # The same reasoning for the API's writes: one thread (reads keep theirs).
        CONF.set_default("write_threads", 1, group="wsgi")
    servers: list[wsgi.WSGIServer] = []
    if CONF.quantum.embedded:
        servers.append(embedded.server())
    # Compute first: its fresh heartbeat and start-up reconciliation come
    # before the scheduler's first sweep, which would otherwise see it down.
    services = [
        service.Service("nova-compute", "compute", compute_manager.ComputeManager()),
        service.Service("nova-scheduler", "scheduler", scheduler_manager.SchedulerManager()),
    ]
    servers.append(
        wsgi.WSGIServer(
            router.build_app(),
            CONF.osapi_compute_listen,
            CONF.osapi_compute_listen_port if api_port is None else api_port,
            name="nova-api",
            host_option="[DEFAULT] osapi_compute_listen",
            port_option="[DEFAULT] osapi_compute_listen_port",
            limits=common.api_limits(),
            fault_body=api_wsgi.server_fault,
        )
    )
    LOG.info(
        "API threads: %d%s; RPC threads per service: %d",
        CONF.wsgi.threads,
        f" for reads, {CONF.wsgi.write_threads} for writes" if CONF.wsgi.write_threads else "",
        rpc,
    )
    return services, servers


def main(argv=None) -> int:
    """Run the embedded cloud until SIGTERM."""
    if not common.setup(argv):
        return 1
    try:
        migration.db_sync()  # logs each step
        common.check_broker(in_process=True)
        services, servers = build()
    except Exception as exc:  # noqa: BLE001 - one line for the operator
        return common.fail("nova-all", exc)
    try:
        # Before any service starts: another nova-all may be running on this host.
        for server in servers:
            server.listen()
    except wsgi.BindError as exc:
        for server in servers:
            server.stop()
        return common.fail("nova-all", exc)
    # The network service first (compute needs it), the API last.
    service.run([], [*servers[:-1], *services, servers[-1]])
    return 0


if __name__ == "__main__":
    sys.exit(main())
