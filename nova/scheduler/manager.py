"""The filter scheduler: picks a host, claims its resources, casts to its compute.

Hosts are the live, enabled compute services; the filters drop those without
room and the weigher prefers free RAM. The claim is an atomic conditional
UPDATE of the host's usage, so two schedulers cannot over-commit a host: a
lost race just moves on to the next host.
"""

from __future__ import annotations

import datetime
import logging
import traceback

import oslo_messaging as messaging

import nova.conf
from nova import context as nova_context
from nova import exception
from nova.compute import rpcapi as compute_rpcapi
from nova.compute import utils as compute_utils
from nova.compute import vm_states
from nova.db import instances as instance_db
from nova.db import models
from nova.db import services as service_db
from nova.scheduler import filters

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)

NO_VALID_HOST = "No valid host was found"


def allocation_ratios() -> dict[str, float]:
    """Return the over-commit ratios claims use."""
    return {
        "ram": CONF.ram_allocation_ratio,
        "cpu": CONF.cpu_allocation_ratio,
        "disk": CONF.disk_allocation_ratio,
    }


def _no_valid_host_message(context, instance) -> str:
    """Return "No valid host was found", with why the last host failed if one did."""
    last = instance_db.instance_fault_get_latest(context, [instance.id]).get(instance.id)
    if last is None:
        return NO_VALID_HOST
    return f"{NO_VALID_HOST}; the last attempt failed on {last.host}: {last.message}"


class SchedulerManager:
    """RPC endpoint of the ``scheduler`` topic."""

    target = messaging.Target(version="1.0")

    def __init__(self, compute: compute_rpcapi.ComputeAPI | None = None) -> None:
        self.compute_rpcapi = compute or compute_rpcapi.ComputeAPI()
        filters.enabled_filters()  # an unknown filter stops the start, not the first boot

    def host_states(self, context) -> list[filters.HostState]:
        """Return every compute host with its capacity and usage."""
        states = []
        for service, node in service_db.compute_hosts(context):
            state = filters.HostState(
                host=service.host,
                up=service_db.service_is_up(service, CONF.service_down_time),
                enabled=not service.disabled,
                availability_zone=service.availability_zone or CONF.default_availability_zone,
            )
            if node is not None:
                for field in (
                    "vcpus", "vcpus_used", "memory_mb", "memory_mb_used", "local_gb",
                    "local_gb_used",
                ):  # fmt: skip
                    setattr(state, field, getattr(node, field))
            states.append(state)
        return states

    def select_and_claim(self, context, instance, excluded_hosts=()):
        """Claim a host for ``instance`` and record it there; return the updated instance.

        The claim and the instance's ``host`` are written in one transaction
        (nothing is taken if the instance changed meanwhile). Return None
        if no host fits.

        :raises nova.exception.InstanceNotFound: the instance is gone.
        :raises nova.exception.InstanceInvalidState: it is no longer waiting for a
            host (placed already, or being deleted).
        """
        spec = filters.RequestSpec(
            memory_mb=instance.memory_mb or 0,
            vcpus=instance.vcpus or 0,
            root_gb=instance.root_gb or 0,
            availability_zone=instance.availability_zone,
            excluded_hosts=tuple(excluded_hosts),
        )
        candidates = filters.weigh_by_free_ram(
            filters.filter_hosts(self.host_states(context), spec)
        )
        for host in candidates:
            placed = service_db.instance_claim(
                context,
                instance.uuid,
                host.host,
                allocation_ratios(),
                (spec.memory_mb, spec.vcpus, spec.root_gb),
                {"host": host.host, "availability_zone": instance.availability_zone},
                # Still waiting for a host: not placed meanwhile, not being deleted.
                expected={
                    "vm_state": vm_states.BUILDING,
                    "task_state": vm_states.SCHEDULING,
                    "host": None,
                },
            )
            if placed is not None:
                return placed
            LOG.debug("Claim on %s lost a race; trying the next host", host.host)
        return None

    def schedule(self, context, instance_uuid: str, attempt: int = 1, excluded_hosts=()):
        """Place one instance: claim a host and cast to it, or put it in ERROR.

        Whatever fails, the instance does not stay in BUILD without a word.
        """
        try:
            self._schedule(context, instance_uuid, attempt, excluded_hosts)
        except Exception as exc:  # noqa: BLE001 - the instance must not stay in BUILD
            LOG.exception("Scheduling instance %s failed", instance_uuid)
            compute_utils.give_up(
                context.elevated(),
                instance_uuid,
                f"Scheduling failed: {exc}",
                traceback.format_exc(),
            )

    def _schedule(self, context, instance_uuid: str, attempt: int, excluded_hosts) -> None:
        admin = context.elevated()
        try:
            instance = instance_db.instance_get_by_uuid(admin, instance_uuid)
            placed = self.select_and_claim(admin, instance, excluded_hosts)
        except (exception.InstanceInvalidState, exception.InstanceNotFound) as exc:
            LOG.info("Not scheduling instance %s: %s", instance_uuid, exc.format_message())
            return
        if placed is None:
            LOG.warning("%s for instance %s (attempt %d)", NO_VALID_HOST, instance_uuid, attempt)
            message = _no_valid_host_message(admin, instance)
            compute_utils.record_fault(admin, instance, 500, message)
            return
        LOG.info("Instance %s placed on %s (attempt %d)", instance_uuid, placed.host, attempt)
        self.compute_rpcapi.run_instance(
            context,
            placed.host,
            instance_uuid,
            attempt=attempt,
            excluded_hosts=list(excluded_hosts),
        )

    def periodic_tasks(self) -> None:
        """Fail the servers whose launch never reached a scheduler (see ``unscheduled_timeout``)."""
        timeout = CONF.scheduler.unscheduled_timeout
        if not timeout:
            return
        admin = nova_context.get_admin_context()
        before = models.utcnow() - datetime.timedelta(seconds=timeout)
        message = f"Not scheduled within {timeout} s: the request to schedule it was lost"
        for instance_uuid in instance_db.instance_get_unscheduled(admin, before):
            try:
                instance_db.instance_set_error(
                    admin,
                    instance_uuid,
                    {"code": 500, "message": message, "details": "", "host": CONF.host},
                    # Still unplaced: a scheduler placing it meanwhile wins.
                    expected={
                        "vm_state": vm_states.BUILDING,
                        "task_state": vm_states.SCHEDULING,
                        "host": None,
                    },
                )
            except (exception.InstanceInvalidState, exception.InstanceNotFound):
                continue
            LOG.warning("Instance %s was never scheduled; ERROR", instance_uuid)

    # --- RPC methods ---------------------------------------------------------------

    def run_instances(self, context, instance_uuids):
        """Place each instance on a host."""
        for instance_uuid in instance_uuids:
            self.schedule(context, instance_uuid)

    def reschedule(self, context, instance_uuid, attempt, excluded_hosts):
        """Place an instance again after a host failed to spawn it."""
        self.schedule(context, instance_uuid, attempt=attempt, excluded_hosts=excluded_hosts)
