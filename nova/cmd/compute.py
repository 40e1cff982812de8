"""``nova-compute``: builds the instances the scheduler places on this host."""

from __future__ import annotations

import sys

from nova import service
from nova.cmd import common
from nova.compute import manager


def main(argv=None) -> int:
    """Run the compute service of ``[DEFAULT] host`` until SIGTERM."""
    if not common.setup(argv):
        return 1
    service.run([service.Service("nova-compute", "compute", manager.ComputeManager())])
    return 0


if __name__ == "__main__":
    sys.exit(main())
