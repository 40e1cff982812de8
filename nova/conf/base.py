"""Options of the ``[DEFAULT]`` group shared by every service."""

from __future__ import annotations

import os
import socket

from oslo_config import cfg
from oslo_utils import netutils

base_opts: list[cfg.Opt] = [
    cfg.StrOpt(
        "state_path",
        default=os.path.join(os.path.expanduser("~"), ".local", "state", "nova"),
        sample_default="$HOME/.local/state/nova",
        help="Top-level directory for Nova's state: the SQLite database, "
        "instance directories and logs of the embedded cloud.",
    ),
    cfg.StrOpt(
        "host",
        default=socket.gethostname(),
        sample_default="<current_hostname>",
        help="Name of this node. Compute services are addressed by it "
        "(RPC topic compute.<host>) and instances record it. Must be unique "
        "among the compute services of one cloud.",
    ),
    cfg.StrOpt(
        "my_ip",
        default=netutils.get_my_ipv4(),
        sample_default="<host_ipv4>",
        help="IP address of this host. A compute service reports it as its "
        "hypervisor's host_ip (os-hypervisors). Default: the address of the "
        "interface of the default route (127.0.0.1 without one).",
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register the ``[DEFAULT]`` options on ``conf``."""
    conf.register_opts(base_opts)


def list_opts() -> dict[str, list[cfg.Opt]]:
    """Return the options of this module by group, for the sample generator."""
    return {"DEFAULT": base_opts}
