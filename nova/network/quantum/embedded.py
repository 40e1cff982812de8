"""Run the reference Quantum service inside a Nova process (``[quantum] embedded``).

``nova-all`` uses this for the one-process cloud: the service listens where
``[quantum] url`` points (for other clients) and keeps its database at
``[quantum] connection``. While it runs, the quantum backend of the same
process hands its requests straight to the service's WSGI application
(``running_app()``): the same requests and answers as over HTTP, without
the sockets.
"""

from __future__ import annotations

import threading
import urllib.parse
from collections.abc import Callable

from oslo_config import cfg

import nova.conf
from quantum import conf as quantum_conf
from quantum import server as quantum_server
from quantum.agent import agent as quantum_agent
from servicekit import keystone

CONF = nova.conf.CONF


def quantum_config(conf: cfg.ConfigOpts = CONF) -> cfg.ConfigOpts:
    """Return the embedded service's configuration, derived from Nova's."""
    url = urllib.parse.urlsplit(conf.quantum.url)
    qconf = quantum_conf.new_conf()
    agent_file = conf.quantum.agent_config_file
    qconf([], project="quantum", default_config_files=[agent_file] if agent_file else [])
    qconf.set_default("quantum_url", conf.quantum.url, group="agent")
    qconf.set_default("admin_token", conf.quantum.auth_token, group="agent")
    qconf.set_override("state_path", conf.state_path)
    qconf.set_override("bind_host", url.hostname or "127.0.0.1")
    qconf.set_override("bind_port", url.port or 9696)
    qconf.set_override("connection", conf.quantum.connection, group="database")
    qconf.set_override("sqlite_synchronous", conf.database.sqlite_synchronous, group="database")
    qconf.set_override("max_write_wait", conf.database.max_write_wait, group="database")
    return qconf


_lock = threading.Lock()
_running: list[Callable] = []  # the WSGI apps of the embedded services started


class EmbeddedServer(quantum_server.Server):
    """The service, known to this process's quantum backend while it runs."""

    # Nova's configuration says where it listens.
    host_option = port_option = "[quantum] url"

    #: The configuration of the agent to run beside it (``[quantum] agent_config_file``).
    agent_conf: cfg.ConfigOpts | None = None
    _agent: tuple[threading.Thread, threading.Event] | None = None

    def start(self) -> None:
        """Serve in background threads and offer the app to in-process callers."""
        super().start()
        with _lock:
            _running.append(self.app)
        if self.agent_conf is not None:
            self._agent = quantum_agent.start_thread(self.agent_conf)

    def stop(self) -> None:
        """Stop the agent, stop offering the app, then stop serving."""
        if self._agent is not None:
            thread, stop = self._agent
            stop.set()
            thread.join(timeout=30)
            self._agent = None
        with _lock:
            if self.app in _running:
                _running.remove(self.app)
        super().stop()


def running_app() -> Callable | None:
    """Return the WSGI app of the service this process runs, if it runs one."""
    with _lock:
        return _running[-1] if _running else None


def server(conf: cfg.ConfigOpts = CONF) -> EmbeddedServer:
    """Return the service (and its agent, if configured), ready to ``start()``.

    With Nova's ``[api] auth_strategy = keystone`` it checks tokens as
    Nova's API does, with Nova's ``[keystone_authtoken]``: a noauth Quantum
    beside a Keystone-authenticated API would let anyone act as any tenant.
    """
    qconf = quantum_config(conf)
    if conf.api.auth_strategy != "keystone":
        running = EmbeddedServer(qconf)
    else:
        qconf.set_override("auth_strategy", "keystone")
        token_check = keystone.TokenCheck(conf, "nova")
        running = EmbeddedServer(qconf, app=quantum_server.build_app(qconf, token_check))
    if conf.quantum.agent_config_file:
        running.agent_conf = qconf
    return running


def start(conf: cfg.ConfigOpts = CONF) -> EmbeddedServer:
    """Start the service in background threads; return it (``stop()`` ends it)."""
    running = server(conf)
    running.start()
    return running
