"""Instance states (``vm_state``, ``task_state``) and the API status they show as."""

from __future__ import annotations

DEFINED = "defined"  # stored with its VIFs, not handed to the scheduler yet
BUILDING = "building"
ACTIVE = "active"
ERROR = "error"
DELETED = "deleted"

# task states
SCHEDULING = "scheduling"
NETWORKING = "networking"
SPAWNING = "spawning"
DELETING = "deleting"

STATUS = {
    DEFINED: "DEFINED",
    BUILDING: "BUILD",
    ACTIVE: "ACTIVE",
    ERROR: "ERROR",
    DELETED: "DELETED",
}
VM_STATES_BY_STATUS = {status: vm_state for vm_state, status in STATUS.items()}


def status(vm_state: str | None) -> str:
    """Return the API status of ``vm_state``."""
    return STATUS.get(vm_state or "", "UNKNOWN")
