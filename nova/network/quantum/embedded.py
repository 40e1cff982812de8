"""Run the reference Quantum service inside a Nova process (``[quantum] embedded``).

``nova-all`` uses this for the one-process cloud: the service listens where
``[quantum] url`` points and keeps its database at ``[quantum] connection``,
so the quantum backend talks to it over HTTP exactly as to a remote one.
"""

from __future__ import annotations

import urllib.parse

from oslo_config import cfg

import nova.conf
from quantum import conf as quantum_conf
from quantum import server as quantum_server

CONF = nova.conf.CONF


def quantum_config(conf: cfg.ConfigOpts = CONF) -> cfg.ConfigOpts:
    """Return the embedded service's configuration, derived from Nova's."""
    url = urllib.parse.urlsplit(conf.quantum.url)
    qconf = quantum_conf.new_conf()
    qconf([], project="quantum", default_config_files=[])
    qconf.set_override("state_path", conf.state_path)
    qconf.set_override("bind_host", url.hostname or "127.0.0.1")
    qconf.set_override("bind_port", url.port or 9696)
    qconf.set_override("connection", conf.quantum.connection, group="database")
    return qconf


def server(conf: cfg.ConfigOpts = CONF) -> quantum_server.Server:
    """Return the service, ready to ``start()`` in background threads."""
    return quantum_server.Server(quantum_config(conf))


def start(conf: cfg.ConfigOpts = CONF) -> quantum_server.Server:
    """Start the service in background threads; return it (``stop()`` ends it)."""
    running = server(conf)
    running.start()
    return running
