"""Options of the Quantum service, on its own ``ConfigOpts`` object.

Quantum keeps its options apart from Nova's global ``cfg.CONF`` so that
``nova-all`` can embed it with a configuration of its own.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from oslo_config import cfg
from oslo_log import log
from oslo_middleware import http_proxy_to_wsgi

default_opts = [
    cfg.StrOpt(
        "state_path",
        default=os.path.join(os.path.expanduser("~"), ".local", "state", "quantum"),
        sample_default="$HOME/.local/state/quantum",
        help="Directory for the service's SQLite database.",
    ),
    cfg.HostAddressOpt("bind_host", default="127.0.0.1", help="Address to listen on."),
    cfg.PortOpt("bind_port", default=9696, help="TCP port to listen on."),
    cfg.StrOpt(
        "core_plugin",
        default="linuxbridge",
        help="Plugin of networks that do not name their own: an alias "
        "(linuxbridge, openvswitch, 8021qbh, 8021qbg, tap) or an import path "
        "of a QuantumPlugin class.",
    ),
    cfg.BoolOpt(
        "op_status_from_agents",
        default=False,
        help="Whether quantum-agent runs on the hosts and reports the ports' op-status: "
        "an attached port is then DOWN until its agent has wired the edge binding "
        "(UP), and back to DOWN when it unwires it. False: attaching makes a port UP.",
    ),
    cfg.StrOpt(
        "auth_strategy",
        default="noauth",
        choices=[
            ("noauth", "X-Auth-Token is 'user:tenant'; user 'admin' is an admin"),
            (
                "keystone",
                "keystonemiddleware validates tokens with the [keystone_authtoken] "
                "options of this configuration; the admin and service roles act in "
                "any tenant; the version list needs no token",
            ),
        ],
        help="How requests are authenticated.",
    ),
    cfg.URIOpt(
        "public_endpoint",
        default=None,
        schemes=["http", "https"],
        help="Base URL of the service as clients reach it, e.g. "
        "https://network.example.com:9696: the links of the version documents start "
        "with it. Unset: the scheme and Host header of each request (with "
        "[oslo_middleware] enable_proxy_headers_parsing, the X-Forwarded-Proto/-Host "
        "or Forwarded header of the proxy in front, which must then be the only way "
        "in: a client could send them too).",
    ),
    cfg.IntOpt(
        "workers_threads",
        default=16,
        min=1,
        help="Threads running requests. A request is read whole before a thread "
        "takes it, so slow clients do not hold threads.",
    ),
    cfg.IntOpt(
        "max_connections",
        default=1000,
        min=16,
        help="Open client connections the server holds; beyond it new ones wait "
        "in the listen backlog and the connection idle the longest is closed to "
        "admit one. Lowered to fit the open-file limit (ulimit -n), with one "
        "warning.",
    ),
    cfg.IntOpt(
        "client_socket_timeout",
        default=60,
        min=1,
        help="Seconds a client connection may stay idle before it is closed.",
    ),
    cfg.IntOpt(
        "client_request_timeout",
        default=60,
        min=1,
        help="Seconds a client has to send one whole request once it has "
        "started; past it the connection is closed.",
    ),
    cfg.IntOpt(
        "max_header_line",
        default=16384,
        min=1024,
        help="Longest request line (longer: 414) or header line (longer: 431), in bytes.",
    ),
    cfg.IntOpt(
        "max_header_size",
        default=65536,
        min=4096,
        help="Largest header block of a request, in bytes (larger: 431, not read further).",
    ),
    cfg.IntOpt("max_header_count", default=100, min=10, help="Most header fields (more: 431)."),
    cfg.IntOpt(
        "max_request_body_size",
        default=1024 * 1024,
        min=1024,
        help="Largest request body accepted, in bytes (larger: 413).",
    ),
]

database_opts = [
    cfg.StrOpt(
        "connection",
        default="sqlite:///$state_path/quantum.sqlite",
        secret=True,
        help="SQLAlchemy URL of Quantum's database.",
    ),
    cfg.FloatOpt(
        "max_write_wait",
        default=5.0,
        min=0,
        help="Seconds a write waits, in all, for SQLite's write lock (held by another "
        "writer of this process or of another one) before the request is refused "
        "with 503 serviceUnavailable and Retry-After. Reads never wait for a writer. "
        "A wait under 50 ms for this process's own writers is not counted. "
        "PostgreSQL and MySQL apply their own lock timeouts.",
    ),
    cfg.StrOpt(
        "sqlite_synchronous",
        default="NORMAL",
        choices=[
            (
                "NORMAL",
                "sync the log at checkpoints only: after a power loss or OS crash "
                "the last transactions may be lost, but the database is never corrupted",
            ),
            ("FULL", "sync the log at every commit: committed means on disk"),
        ],
        help="How a SQLite database in WAL mode syncs to disk (PRAGMA synchronous). "
        "A crash of the process loses nothing either way. Other databases ignore this.",
    ),
]

linuxbridge_opts = [
    cfg.StrOpt(
        "bridge_prefix",
        default="brq",
        help="A network's Linux bridge is this prefix plus the start of its id.",
    ),
]

openvswitch_opts = [
    cfg.StrOpt("integration_bridge", default="br-int", help="Open vSwitch integration bridge."),
    cfg.BoolOpt(
        "hybrid_plug",
        default=False,
        help="Ask compute for a per-VIF Linux bridge between the tap and Open vSwitch.",
    ),
]

qbh_opts = [
    cfg.StrOpt("source_dev", default="eth0", help="Physical device of the 802.1Qbh ports."),
    cfg.StrOpt(
        "profile_id",
        default=None,
        help="Port profile of the 802.1Qbh ports, unless a network or port sets its own.",
    ),
]

qbg_opts = [
    cfg.StrOpt("source_dev", default="eth0", help="Physical device of the 802.1Qbg ports."),
    cfg.IntOpt("managerid", default=11, min=0, max=255, help="VSI manager id."),
    cfg.IntOpt("typeid", default=1193047, min=0, max=16777215, help="VSI type id."),
    cfg.IntOpt("typeidversion", default=2, min=0, max=255, help="VSI type version."),
]

agent_opts = [
    cfg.URIOpt(
        "quantum_url",
        default="http://127.0.0.1:9696",
        schemes=["http", "https"],
        help="Base URL of the Quantum API the agent asks which port each interface-id "
        "on this host is attached to.",
    ),
    cfg.StrOpt(
        "admin_token",
        default="admin:admin",
        secret=True,
        help="X-Auth-Token of the agent's calls: an admin identity (it lists every "
        "tenant's attachments and sets ports' op-status). With auth_strategy = noauth, "
        "'admin:TENANT'.",
    ),
    cfg.FloatOpt(
        "request_timeout",
        default=10.0,
        min=0.1,
        help="Seconds one call to the Quantum API may take.",
    ),
    cfg.ListOpt(
        "plugins",
        default=["linuxbridge"],
        item_type=cfg.types.String(choices=["linuxbridge", "openvswitch"]),
        help="Edge bindings the agent wires: linuxbridge (taps named tap + the "
        "interface-id's first 11 characters, enslaved to their network's bridge), "
        "openvswitch (Interfaces of the integration bridge with external_ids:iface-id, "
        "tagged with their network's local VLAN).",
    ),
    cfg.FloatOpt(
        "polling_interval",
        default=1.0,
        min=0.1,
        help="Seconds between two passes over the host's edge bindings and the "
        "attachments; a detach is unwired within about this time.",
    ),
    cfg.FloatOpt(
        "resync_interval",
        default=10.0,
        min=0,
        help="Seconds after which the ports' configurations (bridge, fixed IP, DHCP "
        "server) are read again even if their attachments did not move: a changed "
        "subnet or fixed IP reaches the DHCP server within about this time.",
    ),
    cfg.StrOpt(
        "netns",
        default=None,
        help="Network namespace holding the taps, bridges and DHCP devices (unset: "
        "the agent's own). The tests confine everything to a private namespace.",
    ),
    cfg.StrOpt(
        "ovsdb_connection",
        default="unix:/var/run/openvswitch/db.sock",
        help="OVSDB server of the host's Open vSwitch (ovs-vsctl --db).",
    ),
    cfg.StrOpt(
        "ovs_datapath_type",
        default="system",
        choices=[
            ("system", "the kernel datapath (the openvswitch module)"),
            ("netdev", "the userspace datapath, for hosts without the kernel module"),
        ],
        help="datapath_type of the integration bridge when the agent creates it.",
    ),
    cfg.BoolOpt(
        "enable_dhcp",
        default=True,
        help="Run one dnsmasq per network whose ports name a dhcp_server in their "
        "configuration, in a namespace qdhcp-<network id>, answering only the "
        "MACs of the ports wired on this host with their fixed IPs.",
    ),
    cfg.StrOpt("dnsmasq_command", default="dnsmasq", help="The dnsmasq program."),
    cfg.IntOpt(
        "dhcp_lease_seconds",
        default=86400,
        min=120,
        help="Lease time dnsmasq gives (a fixed IP does not change while attached).",
    ),
]

GROUPS: dict[str, Sequence[cfg.Opt]] = {
    "DEFAULT": default_opts,
    "database": database_opts,
    "linuxbridge": linuxbridge_opts,
    "openvswitch": openvswitch_opts,
    "8021qbh": qbh_opts,
    "8021qbg": qbg_opts,
    "agent": agent_opts,
}


def new_conf() -> cfg.ConfigOpts:
    """Return a fresh ``ConfigOpts`` with every Quantum option registered."""
    conf = cfg.ConfigOpts()
    for group, opts in GROUPS.items():
        if group == "DEFAULT":
            conf.register_opts(opts)
        else:
            conf.register_opts(opts, group=group)
    # Its sample comes from oslo.middleware's own namespace.
    conf.register_opts(http_proxy_to_wsgi.OPTS, group="oslo_middleware")
    return conf


def parse_args(argv: Sequence[str], default_config_files: Sequence[str] | None = None):
    """Return a ``ConfigOpts`` loaded from the command line and config files.

    oslo.log's options (``--debug``, ``--log-file`` ...) are registered too:
    ``quantum-server`` sets up its log from them.
    """
    conf = new_conf()
    log.register_options(conf)
    conf(
        list(argv),
        project="quantum",
        default_config_files=None if default_config_files is None else list(default_config_files),
    )
    return conf


def list_opts() -> list[tuple[str, list[cfg.Opt]]]:
    """Return every option by group, for ``oslo-config-generator``."""
    return [(group, list(opts)) for group, opts in GROUPS.items()]
