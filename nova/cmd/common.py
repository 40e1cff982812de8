"""What every service command does first: read the configuration, set up logging."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from oslo_config import cfg

from nova import config


def setup(argv: Sequence[str] | None) -> bool:
    """Parse ``--config-file`` and friends; print one line and return False on error."""
    try:
        config.parse_args(sys.argv[1:] if argv is None else argv)
    except cfg.Error as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return False
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(process)d %(levelname)s %(name)s %(message)s",
    )
    return True
