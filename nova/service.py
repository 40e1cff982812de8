"""A Nova service: an RPC server for its topic, a row in ``services`` and heartbeats.

Each service registers itself (host, binary, topic), then reports every
``report_interval`` seconds; others consider it up while its last report is
younger than ``service_down_time``. A compute service also reports its
host's capacity. A manager with a ``sweep()`` (the scheduler) has it run once
the RPC server serves, then every ``sweep_interval`` seconds, in a thread of
its own (a sweep waiting on the broker or the database delays no heartbeat).
``stop()`` (SIGTERM) ends the RPC server, the reports and the sweeps.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Sequence

import nova.conf
from nova import context as nova_context
from nova import rpc
from nova.db import services as service_db

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)


class Service:
    """One service (``nova-scheduler``, ``nova-compute``) of one host."""

    def __init__(self, binary: str, topic: str, manager, host: str | None = None) -> None:
        self.binary = binary
        self.topic = topic
        self.manager = manager
        self.host = host or CONF.host
        self.service_id: int | None = None
        self._rpc_server = None
        self._stopping = threading.Event()
        self._reporter: threading.Thread | None = None
        self._sweeper: threading.Thread | None = None

    def start(self) -> None:
        """Register, prepare the host, then serve RPC and report in the background."""
        context = nova_context.get_admin_context()
        service = service_db.service_get_or_create(
            context,
            self.host,
            self.binary,
            {"topic": self.topic, "availability_zone": CONF.default_availability_zone},
        )
        self.service_id = service.id
        service_db.service_heartbeat(context, service.id)
        if hasattr(self.manager, "update_available_resource"):
            self.manager.update_available_resource(self.service_id)
        if hasattr(self.manager, "init_host"):
            self.manager.init_host()
        self._rpc_server = server = rpc.get_server(self.topic, self.host, [self.manager])
        server.start()
        self._reporter = threading.Thread(
            target=self._report_loop, name=f"{self.binary}-report", daemon=True
        )
        self._reporter.start()
        if hasattr(self.manager, "sweep"):
            self._sweeper = threading.Thread(
                target=self._sweep_loop, name=f"{self.binary}-sweep", daemon=True
            )
            self._sweeper.start()
        LOG.info("%s started on %s (topic %s)", self.binary, self.host, self.topic)

    def _report_loop(self) -> None:
        context = nova_context.get_admin_context()
        assert self.service_id is not None  # started: registered
        while not self._stopping.wait(CONF.report_interval):
            try:
                service_db.service_heartbeat(context, self.service_id)
                if hasattr(self.manager, "update_available_resource"):
                    self.manager.update_available_resource(self.service_id)
                if hasattr(self.manager, "periodic_tasks"):
                    self.manager.periodic_tasks()
            except Exception:  # noqa: BLE001 - a missed report must not end the loop
                LOG.exception("%s on %s could not report", self.binary, self.host)

    def _sweep_loop(self) -> None:
        while True:
            try:
                self.manager.sweep()
            except Exception:  # noqa: BLE001 - a failed sweep must not end the loop
                LOG.exception("%s on %s: the sweep failed", self.binary, self.host)
            interval = self.manager.sweep_interval
            if not interval or self._stopping.wait(interval):
                return

    def stop(self) -> None:
        """Stop serving and reporting; wait for the RPC server to finish."""
        self._stopping.set()
        if self._rpc_server is not None:
            self._rpc_server.stop()
            self._rpc_server.wait()
        LOG.info("%s on %s stopped", self.binary, self.host)


def run(services: Sequence, servers: Sequence = ()) -> None:
    """Start ``services`` and WSGI ``servers``; stop them all on SIGTERM or SIGINT."""
    stopping = threading.Event()

    def on_signal(signum, _frame):
        LOG.info("Signal %d received; stopping", signum)
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    started = []
    try:
        for item in [*services, *servers]:
            item.start()
            started.append(item)
        stopping.wait()
    finally:
        for item in reversed(started):
            item.stop()
