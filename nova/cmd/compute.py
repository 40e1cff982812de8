"""``nova-compute``: builds the instances the scheduler places on this host."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from nova.cmd import common
from nova.compute import manager


def main(argv: Sequence[str] | None = None) -> int:
    """Run the compute service of ``[DEFAULT] host`` until SIGTERM."""
    return common.run_service(argv, "nova-compute", "compute", manager.ComputeManager)


if __name__ == "__main__":
    sys.exit(main())
