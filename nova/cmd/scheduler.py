"""``nova-scheduler``: places instances on compute hosts."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from nova.cmd import common
from nova.scheduler import manager


def main(argv: Sequence[str] | None = None) -> int:
    """Run the scheduler service until SIGTERM."""
    return common.run_service(argv, "nova-scheduler", "scheduler", manager.SchedulerManager)


if __name__ == "__main__":
    sys.exit(main())
