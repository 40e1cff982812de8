"""The compute manager: builds and destroys the instances placed on this host.

``run_instance`` walks task states ``networking`` -> ``spawning`` and ends in
``ACTIVE``: the ports are bound to this host and read back with their
configuration, the image (with an image service) is fetched into this
host's cache (``nova.image.api.API.fetch``), then the driver plugs the
VIFs and defines and starts the domain. On any failure the partial work is
undone, the claim released, and the instance either rescheduled to another host (up to
``[scheduler] max_attempts``) or put in ERROR with a fault.

A claim is given back by the very write that ends it (rescheduled, ERROR,
destroyed: ``nova.db.services.instance_transition``), so whichever of a
build and a delete finishes first, it is given back once. A build that finds
its instance being deleted stops and leaves the rest to the delete. Every
``update_resources_interval`` the host's usage is recomputed from the
instances it hosts (``audit_resources``) and any correction logged.
"""

from __future__ import annotations

import logging
import time
import traceback
import types

import oslo_messaging as messaging

import nova.conf
from nova import context as nova_context
from nova import exception
from nova import utils
from nova.compute import utils as compute_utils
from nova.compute import vm_states
from nova.db import instances as instance_db
from nova.db import metadata as metadata_db
from nova.db import models
from nova.db import services as service_db
from nova.image import api as image_api
from nova.network import api as network_api
from nova.network import model as network_model
from nova.scheduler import rpcapi as scheduler_rpcapi
from nova.virt import driver as virt_driver

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)

# A failure of these is the request's, not the host's: another host would
# fail the same way, so it is not rescheduled.
_NOT_RESCHEDULABLE = (
    exception.Invalid,
    exception.PortBindingFailed,
    exception.PortAttachedElsewhere,
    exception.ImageNotFound,
)
# Task states of a build under way on this host; a delete moves it out of them.
_BUILDING_TASKS = [vm_states.NETWORKING, vm_states.SPAWNING]


class ComputeManager:
    """RPC endpoint of ``compute.<host>``."""

    target = messaging.Target(version="1.0")

    def __init__(
        self,
        host: str | None = None,
        driver: virt_driver.ComputeDriver | None = None,
        network: network_api.NetworkAPI | None = None,
        scheduler: scheduler_rpcapi.SchedulerAPI | None = None,
    ) -> None:
        self.host = host or CONF.host
        self.driver = driver or virt_driver.load_driver(CONF.compute_driver)
        self._network = network
        if network is None:
            network_api.backend_class()  # imported now; made when first used
        self._scheduler = scheduler
        self._audited_at: float | None = None

    network = utils.LazyDependency(network_api.get_api)
    scheduler = utils.LazyDependency(scheduler_rpcapi.SchedulerAPI)
    image = utils.LazyDependency(image_api.API)

    # --- host start-up and resources -------------------------------------------------

    def init_host(self) -> None:
        """Reconcile this host with the database after a stop or a crash.

        As Nova's ``init_host``: a delete in progress is completed, a build
        interrupted here goes to ERROR (one only placed here, not started,
        is left to its message or the scheduler's sweep); an ACTIVE instance
        whose guest is gone is SHUTOFF (Nova's power-state sync stops an
        instance whose guest shut down by itself); a guest of an instance
        that is deleted or now on another host is destroyed.
        """
        context = nova_context.get_admin_context()
        guests = set(self.driver.list_instance_uuids())
        kept = set()
        for instance in instance_db.instance_get_all(context, {"host": self.host}):
            try:
                if instance.task_state == vm_states.DELETING:
                    LOG.warning("Instance %s was being deleted when compute stopped", instance.uuid)
                    self.terminate_instance(context, instance.uuid)
                    continue
                kept.add(instance.uuid)
                if instance.vm_state == vm_states.BUILDING:
                    if instance.task_state != vm_states.SCHEDULING:
                        self._fail_interrupted_build(context, instance)
                elif instance.vm_state == vm_states.ACTIVE and instance.uuid not in guests:
                    self._stop_lost_guest(context, instance)
            except Exception:  # noqa: BLE001 - one instance must not stop the host's start
                LOG.exception("Could not reconcile instance %s at start", instance.uuid)
        for uuid in guests - kept:
            LOG.warning("Domain %s has no live instance on this host; removing it", uuid)
            try:
                self.driver.destroy(types.SimpleNamespace(uuid=uuid, id=0), [])
            except Exception:  # noqa: BLE001 - the next start tries again
                LOG.exception("Could not remove domain %s", uuid)

    def _fail_interrupted_build(self, context, instance) -> None:
        message = "Compute service restarted while building the instance"
        try:
            # Its claim is given back in the same transaction.
            service_db.instance_set_error(
                context,
                instance.uuid,
                {"code": 500, "message": message, "details": "", "host": self.host},
                # Unless the scheduler's sweep took it elsewhere meanwhile.
                expected={
                    "vm_state": vm_states.BUILDING,
                    "task_state": instance.task_state,
                    "host": self.host,
                },
            )
        except (exception.InstanceNotFound, exception.InstanceInvalidState):
            return
        LOG.warning("Instance %s was building when compute stopped; ERROR", instance.uuid)

    def _stop_lost_guest(self, context, instance) -> None:
        try:
            instance_db.instance_update(
                context,
                instance.uuid,
                {"vm_state": vm_states.STOPPED, "task_state": None},
                expected={"vm_state": vm_states.ACTIVE, "task_state": None, "host": self.host},
            )
        except (exception.InstanceNotFound, exception.InstanceInvalidState):
            return
        LOG.warning(
            "Instance %s is ACTIVE but its guest is gone from this host; SHUTOFF", instance.uuid
        )

    def update_available_resource(self, service_id: int) -> None:
        """Report this host's capacity into ``compute_nodes``; audit its usage when due.

        Called at start and at every heartbeat; the audit runs at the first
        call and then every ``update_resources_interval`` seconds.
        """
        resources = self.driver.get_available_resource()
        service_db.compute_node_update(
            nova_context.get_admin_context(),
            self.host,
            service_id,
            {
                "vcpus": resources.vcpus,
                "memory_mb": resources.memory_mb,
                "local_gb": resources.local_gb,
                "hypervisor_type": resources.hypervisor_type,
                "hypervisor_version": resources.hypervisor_version,
                "cpu_info": resources.cpu_info,
                "host_ip": CONF.my_ip,
            },
        )
        interval = CONF.update_resources_interval
        now = time.monotonic()
        if self._audited_at is None or (interval and now - self._audited_at >= interval):
            self._audited_at = now
            self.audit_resources()

    def audit_resources(self) -> None:
        """Recompute this host's usage from the live instances it hosts; log any correction."""
        corrected = service_db.compute_node_audit(nova_context.get_admin_context(), self.host)
        if corrected is None:
            LOG.debug("Resource audit of host %s: usage is right", self.host)
            return
        before, after = corrected
        LOG.warning(
            "Resource audit of host %s corrected its usage: %s",
            self.host,
            ", ".join(
                f"{column} {before[column]} -> {after[column]}"
                for column in service_db.USAGE
                if before[column] != after[column]
            ),
        )

    # --- building -----------------------------------------------------------------------

    def _set_task(self, context, instance_uuid: str, task_state: str, expected_task: str):
        return instance_db.instance_update(
            context,
            instance_uuid,
            {"task_state": task_state},
            expected={
                "vm_state": vm_states.BUILDING,
                "task_state": expected_task,
                "host": self.host,
            },
        )

    def run_instance(self, context, instance_uuid, attempt=1, excluded_hosts=None):
        """Build and start an instance the scheduler placed on this host.

        Whatever fails, the instance does not stay in BUILD without a word.
        """
        try:
            self._run_instance(context, instance_uuid, attempt, excluded_hosts)
        except Exception as exc:  # noqa: BLE001 - the last line of defence
            LOG.exception("Building instance %s failed unexpectedly", instance_uuid)
            compute_utils.give_up(
                context.elevated(),
                instance_uuid,
                f"Build failed: {exc}",
                traceback.format_exc(),
            )

    def _run_instance(self, context, instance_uuid, attempt, excluded_hosts) -> None:
        # Elevated, not a fresh admin context: the request id goes on (log, reschedule).
        admin = context.elevated()
        try:
            instance = self._set_task(
                admin, instance_uuid, vm_states.NETWORKING, vm_states.SCHEDULING
            )
        except (exception.InstanceNotFound, exception.InstanceInvalidState) as exc:
            LOG.info("Not building %s: %s", instance_uuid, exc)
            return
        network_info = None
        try:
            network_info = self.network.bind_for_host(admin, instance, self.host)
            instance = self._set_task(
                admin, instance_uuid, vm_states.SPAWNING, vm_states.NETWORKING
            )
            if self.image.is_configured():
                # The image's bits in this host's cache (once per image, verified).
                self.image.fetch(context, instance.image_ref)
            self.driver.spawn(
                instance,
                network_info,
                context=context,
                metadata=metadata_db.metadata_get(admin, instance_uuid),
            )
            instance_db.instance_update(
                admin,
                instance_uuid,
                {"vm_state": vm_states.ACTIVE, "task_state": None, "launched_at": models.utcnow()},
                expected={
                    "vm_state": vm_states.BUILDING,
                    "task_state": vm_states.SPAWNING,
                    "host": self.host,
                },
            )
        except Exception as exc:  # noqa: BLE001 - every failure ends in a defined state
            self._build_failed(admin, instance, network_info, exc, attempt, excluded_hosts or [])
            return
        LOG.info("Instance %s is ACTIVE on %s", instance_uuid, self.host)

    def _build_failed(self, context, instance, network_info, error, attempt, excluded) -> None:
        LOG.warning("Building %s on %s failed: %s", instance.uuid, self.host, error)
        details = "".join(traceback.format_exception(error))
        try:
            # Whatever the failure, spawn may have begun: a domain, plugs, a directory.
            self.driver.destroy(instance, network_info or [])
        except Exception:  # noqa: BLE001 - keep going: the claim must be released
            LOG.exception("Cleaning up %s after the failure failed", instance.uuid)
        if isinstance(error, (exception.InstanceInvalidState, exception.InstanceNotFound)):
            # Deleted (or being deleted) meanwhile: the delete gives the claim back.
            LOG.info("Instance %s was deleted or changed while building", instance.uuid)
            return
        code = getattr(error, "code", 500)
        message = (
            error.format_message() if isinstance(error, exception.NovaException) else str(error)
        )
        fault = {"code": code, "message": message[:255], "details": details, "host": self.host}
        still_building = {
            "vm_state": vm_states.BUILDING,
            "task_state": _BUILDING_TASKS,
            "host": self.host,
        }
        try:
            if attempt < CONF.scheduler.max_attempts and not isinstance(error, _NOT_RESCHEDULABLE):
                # The fault is recorded (the instance stays BUILDING) so that, if
                # no other host can take it, the final fault says what went wrong here.
                service_db.instance_transition(
                    context,
                    instance.uuid,
                    {"host": None, "task_state": vm_states.SCHEDULING},
                    still_building,
                    fault=fault,
                )
                LOG.info("Rescheduling %s (attempt %d)", instance.uuid, attempt + 1)
                self.scheduler.reschedule(
                    context, instance.uuid, attempt + 1, [*excluded, self.host]
                )
                return
            compute_utils.record_fault(
                context, instance, code, message, details, expected=still_building
            )
        except (exception.InstanceNotFound, exception.InstanceInvalidState):
            LOG.info("Instance %s was deleted while building", instance.uuid)

    # --- the console, the host's uptime --------------------------------------------------

    @messaging.expected_exceptions(NotImplementedError)
    def get_host_uptime(self, context):
        """Return this host's ``uptime`` line (os-hypervisors/{id}/uptime)."""
        return self.driver.get_host_uptime()

    @messaging.expected_exceptions(
        exception.InstanceNotFound, exception.ConsoleNotAvailable, NotImplementedError
    )
    def get_console_output(self, context, instance_uuid, tail_length=None):
        """Return the end of the guest's console log: its last ``tail_length`` lines (None: all)."""
        admin = context.elevated()
        instance = instance_db.instance_get_by_uuid(admin, instance_uuid)
        if instance.host != self.host:
            raise exception.InstanceNotFound(instance_id=instance_uuid)
        output = self.driver.get_console_output(instance)
        if tail_length is None:
            return output
        if tail_length == 0:
            return ""
        return "\n".join(output.split("\n")[-tail_length:])

    # --- hot-plug ---------------------------------------------------------------------

    def _hosted(self, context, instance_uuid):
        instance = instance_db.instance_get_by_uuid(context, instance_uuid)
        if instance.host != self.host:
            raise exception.InstanceNotFound(instance_id=instance_uuid)
        return instance

    @messaging.expected_exceptions(exception.NovaException)
    def attach_interface(self, context, instance_uuid, network_id, port_id, fixed_ip=None):
        """Add a port to a running guest: the VIF row and attachment, its configuration read,
        the NIC plugged live. Undone on failure. Returns the port id."""
        instance = self._hosted(context, instance_uuid)
        vif = self.network.allocate_port_for_instance(
            context,
            instance,
            network_model.RequestedNetwork(
                network_id=network_id, port_id=port_id, fixed_ip=fixed_ip
            ),
        )
        try:
            info = self.network.bind_for_host(context, instance, self.host)
            (wanted,) = [item for item in info if item.id == vif.uuid]
            self.driver.attach_interface(instance, wanted)
        except Exception as exc:
            LOG.warning("Hot-plug of port %s into %s failed; undoing", vif.port_id, instance_uuid)
            try:
                self.network.deallocate_port_for_instance(context, instance, vif.port_id or "")
            except Exception:  # noqa: BLE001 - the error raised is the attach's
                LOG.exception("Could not undo the attachment of port %s", vif.port_id)
            if isinstance(exc, NotImplementedError):
                raise exception.FeatureNotSupported(
                    reason="The compute driver of this server's host cannot attach interfaces."
                ) from exc
            raise
        return vif.port_id

    @messaging.expected_exceptions(exception.NovaException)
    def detach_interface(self, context, instance_uuid, port_id):
        """Remove a port's NIC from the running guest, then its VIF row and attachment."""
        instance = self._hosted(context, instance_uuid)
        info = self.network.get_instance_nw_info(context, instance)
        wanted = [item for item in info if item.port_id == port_id]
        if not wanted:
            raise exception.PortNotFound(port_id=port_id)
        try:
            self.driver.detach_interface(instance, wanted[0])
        except NotImplementedError as exc:
            raise exception.FeatureNotSupported(
                reason="The compute driver of this server's host cannot detach interfaces."
            ) from exc
        self.network.deallocate_port_for_instance(context, instance, port_id)

    # --- deleting -----------------------------------------------------------------------

    def terminate_instance(self, context, instance_uuid):
        """Destroy the domain, unplug, release the ports, then the row and its claim."""
        admin = context.elevated()
        try:
            instance = instance_db.instance_get_by_uuid(admin, instance_uuid)
        except exception.InstanceNotFound:
            return
        try:
            network_info = self.network.get_instance_nw_info(admin, instance)
        except exception.NovaException:
            LOG.warning("No network info for %s; destroying without it", instance_uuid)
            network_info = []
        self.driver.destroy(instance, network_info)
        self.network.deallocate_for_instance(admin, instance)
        try:
            service_db.instance_transition(admin, instance_uuid, destroy=True)
        except exception.InstanceNotFound:
            LOG.info("Instance %s was deleted meanwhile", instance_uuid)
            return
        LOG.info("Instance %s deleted from %s", instance_uuid, self.host)
