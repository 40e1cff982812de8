"""The filter scheduler: picks a host, claims its resources, casts to its compute.

Hosts are the live, enabled compute services; the filters drop those without
room and the weigher prefers free RAM. The claim is an atomic conditional
UPDATE of the host's usage, so two schedulers cannot over-commit a host: a
lost race just moves on to the next host.

Nothing accepted is lost: a sweep, when the scheduler starts and then every
``[scheduler] sweep_interval`` seconds, schedules again the launches still
waiting for a host after ``recast_after`` seconds (their message may have been
lost), casts again to its compute a build placed there but not started, and
takes the builds of a compute service that is down (no heartbeat for
``service_down_time``) off its host, claim released, to schedule them
elsewhere. Each of these is a conditional transition, so a late original
message, a second scheduler or a second sweep loses the race harmlessly.
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
#: The reason of every "No valid host" fault's message, as Nova's (the why: its details).
NOT_ENOUGH_HOSTS = "There are not enough hosts available."

#: Hosts with the most free RAM a placement tries first (the weigher's order).
BEST_HOSTS = 10

# The task states of a build that its compute may still be carrying out.
_IN_FLIGHT = (vm_states.SCHEDULING, vm_states.NETWORKING, vm_states.SPAWNING)


def allocation_ratios() -> dict[str, float]:
    """Return the over-commit ratios claims use."""
    return {
        "ram": CONF.ram_allocation_ratio,
        "cpu": CONF.cpu_allocation_ratio,
        "disk": CONF.disk_allocation_ratio,
    }


def request_spec(instance, excluded_hosts=()) -> filters.RequestSpec:
    """Return what ``instance`` needs of a host (``excluded_hosts``: tried already)."""
    return filters.RequestSpec(
        memory_mb=instance.memory_mb or 0,
        vcpus=instance.vcpus or 0,
        root_gb=instance.root_gb or 0,
        availability_zone=instance.availability_zone,
        excluded_hosts=tuple(excluded_hosts),
    )


class SchedulerManager:
    """RPC endpoint of the ``scheduler`` topic."""

    target = messaging.Target(version="1.0")

    def __init__(self, compute: compute_rpcapi.ComputeAPI | None = None) -> None:
        self.compute_rpcapi = compute or compute_rpcapi.ComputeAPI()
        filters.enabled_filters()  # an unknown filter stops the start, not the first boot

    def host_states(self, context, most_free_ram: int | None = None) -> list[filters.HostState]:
        """Return every compute host with its capacity and usage.

        :param most_free_ram: only that many hosts, those with the most free RAM.
        """
        states = []
        best = None if most_free_ram is None else (CONF.ram_allocation_ratio, most_free_ram)
        for service, node in service_db.compute_hosts(context, best):
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
        spec = request_spec(instance, excluded_hosts)
        # The hosts the weigher puts first, sorted by the database: filtering
        # and weighing a thousand hosts in Python for every instance cost ten
        # times the claim (bench/scale.py). Every host only if none of those fits.
        best = self.host_states(context, most_free_ram=BEST_HOSTS)
        placed = self._claim_first(context, instance, spec, best)
        if placed is None and len(best) == BEST_HOSTS:
            placed = self._claim_first(context, instance, spec, self.host_states(context))
        return placed

    def _claim_first(self, context, instance, spec, states):
        """Claim the best host of ``states`` the filters pass; None if none fits."""
        candidates = filters.weigh_by_free_ram(filters.filter_hosts(states, spec))
        for host in candidates:
            placed = service_db.instance_claim(
                context,
                instance.uuid,
                host.host,
                allocation_ratios(),
                (spec.memory_mb, spec.vcpus, spec.root_gb),
                {"host": host.host, "availability_zone": instance.availability_zone},
                # Still waiting for a host and not being deleted: of two schedulers
                # (or a message and the sweep's retry) placing it, only one wins.
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

    def no_valid_host_fault(self, context, instance, excluded_hosts=()) -> tuple[str, str]:
        """Return the fault (message, details) of an instance no host takes.

        The message, for everyone, is Nova's, followed by the last failed
        attempt's fault if there was one (what went wrong with this build).
        The details, which only admins see (they tell the cloud's capacity),
        name per filter the hosts it removed and why, and the host of the
        last attempt. The hosts are read again (this runs only when no host
        fits; the placements keep the filters' fast path).
        """
        details = filters.why_no_host(
            self.host_states(context), request_spec(instance, excluded_hosts)
        )
        message = exception.NoValidHost(reason=NOT_ENOUGH_HOSTS).format_message()
        last = instance_db.instance_fault_get_latest(context, [instance.id]).get(instance.id)
        if last is not None:
            message += f" The last attempt failed: {last.message}"
            details += f"; the last attempt failed on {last.host}: {last.message}"
        return message, details

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
            message, details = self.no_valid_host_fault(admin, instance, excluded_hosts)
            LOG.warning(
                "%s %s (instance %s, attempt %d)", message, details, instance_uuid, attempt
            )
            compute_utils.record_fault(admin, instance, 500, message, details)
            return
        LOG.info("Instance %s placed on %s (attempt %d)", instance_uuid, placed.host, attempt)
        self.compute_rpcapi.run_instance(
            context,
            placed.host,
            instance_uuid,
            attempt=attempt,
            excluded_hosts=list(excluded_hosts),
        )

    # --- the sweep ---------------------------------------------------------------------

    @property
    def sweep_interval(self) -> int:
        """Seconds between two sweeps (``Service`` runs the first at start); 0: only at start."""
        return CONF.scheduler.sweep_interval

    def sweep(self) -> None:
        """Make sure every building instance is on its way (see the module's docstring)."""
        admin = nova_context.get_admin_context()
        building = instance_db.instance_get_building(admin)
        if not building:
            return
        now = models.utcnow()
        recast_before = now - datetime.timedelta(seconds=CONF.scheduler.recast_after)
        timeout = CONF.scheduler.unscheduled_timeout
        timed_out = now - datetime.timedelta(seconds=timeout) if timeout else None
        up = {
            service.host: service_db.service_is_up(service, CONF.service_down_time)
            for service, _node in service_db.compute_hosts(admin)
        }
        for instance in building:
            try:
                if instance.host is None:
                    if instance.task_state != vm_states.SCHEDULING:
                        continue
                    if timed_out is not None and instance.changed_at < timed_out:
                        self._fail_unscheduled(admin, instance.uuid, timeout)
                    elif instance.changed_at < recast_before:
                        LOG.warning(
                            "Instance %s has waited for a host since %s; scheduling it again",
                            instance.uuid,
                            instance.changed_at.isoformat(),
                        )
                        self.schedule(admin, instance.uuid)
                elif not up.get(instance.host, False):
                    if instance.task_state in _IN_FLIGHT:
                        self._take_from_down_host(admin, instance)
                elif (
                    instance.task_state == vm_states.SCHEDULING
                    and instance.changed_at < recast_before
                ):
                    self._recast_to_compute(admin, instance)
            except Exception:  # noqa: BLE001 - one instance must not stop the sweep
                LOG.exception("The sweep could not handle instance %s", instance.uuid)

    def _fail_unscheduled(self, context, instance_uuid: str, timeout: int) -> None:
        message = f"Not scheduled within {timeout} s: the request to schedule it was lost"
        try:
            service_db.instance_set_error(
                context,
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
            return
        LOG.warning("Instance %s was never scheduled; ERROR", instance_uuid)

    def _take_from_down_host(self, context, instance) -> None:
        """Reschedule a build whose compute service is down; its claim there is released."""
        host = instance.host
        message = (
            f"The compute service of {host} is down (no heartbeat for "
            f"{CONF.service_down_time} s) while it built the instance"
        )
        taken = service_db.instance_take_from_host(
            context,
            instance.uuid,
            host,
            {"host": None, "task_state": vm_states.SCHEDULING},
            expected={
                "vm_state": vm_states.BUILDING,
                "task_state": instance.task_state,
                "host": host,
            },
            fault={"code": 500, "message": message[:255], "details": "", "host": host},
        )
        if taken is None:
            return  # changed meanwhile: deleted, built, or taken by another scheduler
        LOG.warning("%s: rescheduling instance %s", message, instance.uuid)
        # If no other host fits, the ERROR fault says why this one failed.
        self.schedule(context, instance.uuid, excluded_hosts=[host])

    def _recast_to_compute(self, context, instance) -> None:
        """Cast a placed build to its compute again: the first message may have been lost."""
        try:
            # Marks the time of this retry (the next one waits recast_after again).
            instance_db.instance_update(
                context,
                instance.uuid,
                {"task_state": vm_states.SCHEDULING},
                expected={
                    "vm_state": vm_states.BUILDING,
                    "task_state": vm_states.SCHEDULING,
                    "host": instance.host,
                },
            )
        except (exception.InstanceInvalidState, exception.InstanceNotFound):
            return  # its compute started it (or it was deleted) meanwhile
        LOG.warning(
            "Instance %s, placed on %s, has not started; casting it to %s again",
            instance.uuid,
            instance.host,
            instance.host,
        )
        self.compute_rpcapi.run_instance(context, instance.host, instance.uuid)

    # --- RPC methods ---------------------------------------------------------------

    def run_instances(self, context, instance_uuids):
        """Place each instance on a host."""
        for instance_uuid in instance_uuids:
            self.schedule(context, instance_uuid)

    def reschedule(self, context, instance_uuid, attempt, excluded_hosts):
        """Place an instance again after a host failed to spawn it."""
        self.schedule(context, instance_uuid, attempt=attempt, excluded_hosts=excluded_hosts)
