"""Parse the command line and configuration files of a Nova command.

oslo.log's options (``--debug``, ``--log-file``, ``--log-dir``, ``[DEFAULT]
debug``, ``log_file`` ...) are registered here, before any command parses.
"""

from __future__ import annotations

from collections.abc import Sequence

from oslo_log import log

import nova.conf

CONF = nova.conf.CONF

#: Libraries quiet below WARNING: Alembic would repeat each migration step
#: ``nova.db.migration`` logs already.
QUIET_LIBRARIES = ["alembic=WARN"]

log.register_options(CONF)


def parse_args(argv: Sequence[str], default_config_files: Sequence[str] | None = None) -> None:
    """Load ``--config-file`` files and command-line options into ``CONF``.

    :param argv: the arguments after the program name.
    :param default_config_files: files read when no ``--config-file`` is given
        (``None`` lets oslo.config look in its standard places).
    """
    CONF(
        list(argv),
        project="nova",
        default_config_files=None if default_config_files is None else list(default_config_files),
    )


def setup_logging() -> None:
    """Set up oslo.log from ``CONF``: every line carries the request id of its context."""
    # A default of this CONF, not of oslo.log's option: the sample file
    # (generated from the option) stays the same whatever ran before.
    CONF.set_default("default_log_levels", [*CONF.default_log_levels, *QUIET_LIBRARIES])
    log.setup(CONF, "nova")
