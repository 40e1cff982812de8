"""Parse the command line and configuration files of a Nova command."""

from __future__ import annotations

from collections.abc import Sequence

import nova.conf

CONF = nova.conf.CONF


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
