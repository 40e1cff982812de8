"""``nova-scheduler``: places instances on compute hosts."""

from __future__ import annotations

import sys

from nova import service
from nova.cmd import common
from nova.scheduler import manager


def main(argv=None) -> int:
    """Run the scheduler service until SIGTERM."""
    if not common.setup(argv):
        return 1
    service.run([service.Service("nova-scheduler", "scheduler", manager.SchedulerManager())])
    return 0


if __name__ == "__main__":
    sys.exit(main())
