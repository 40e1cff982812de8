"""Options of the ``[DEFAULT]`` group shared by every service."""

from __future__ import annotations

import os
import socket

from oslo_config import cfg

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
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register the ``[DEFAULT]`` options on ``conf``."""
    conf.register_opts(base_opts)


def list_opts() -> dict[str, list[cfg.Opt]]:
    """Return the options of this module by group, for the sample generator."""
    return {"DEFAULT": base_opts}
