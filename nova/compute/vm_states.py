"""Instance states (``vm_state``, ``task_state``) and the API status they show as."""

from __future__ import annotations

DEFINED = "defined"  # stored with its VIFs, not handed to the scheduler yet
BUILDING = "building"
ACTIVE = "active"
# Its guest is not running: at compute start the guest of an ACTIVE instance
# was not found (Nova stops an ACTIVE instance whose guest shut down by
# itself: its power-state sync calls the stop API, status SHUTOFF).
STOPPED = "stopped"
ERROR = "error"
DELETED = "deleted"

# task states
SCHEDULING = "scheduling"
NETWORKING = "networking"
SPAWNING = "spawning"
DELETING = "deleting"

#: The states whose instance holds its claim on its host.
HOLDING_CLAIM = (BUILDING, ACTIVE, STOPPED)

STATUS = {
    DEFINED: "DEFINED",
    BUILDING: "BUILD",
    ACTIVE: "ACTIVE",
    STOPPED: "SHUTOFF",
    ERROR: "ERROR",
    DELETED: "DELETED",
}
VM_STATES_BY_STATUS = {status: vm_state for vm_state, status in STATUS.items()}


def status(vm_state: str | None) -> str:
    """Return the API status of ``vm_state``."""
    return STATUS.get(vm_state or "", "UNKNOWN")
