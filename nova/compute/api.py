"""The compute API: what the REST layer (and API extensions) call.

Creating a server writes the instance and, at once, its VIFs and their
logical attachments (so a *defined* server already has its ports);
launching hands it to the scheduler. A request that fails leaves nothing
behind: no instance row, no VIF, no attachment.
"""

from __future__ import annotations

import logging
import uuid as uuidlib
from collections.abc import Mapping
from collections.abc import Sequence

from oslo_utils import uuidutils

import nova.conf
from nova import context as nova_context
from nova import exception
from nova import quota
from nova import utils
from nova.compute import rpcapi as compute_rpcapi
from nova.compute import vm_states
from nova.db import flavors as flavor_db
from nova.db import instances as instance_db
from nova.db import key_pairs as key_pair_db
from nova.db import metadata as metadata_db
from nova.db import quotas as quota_db
from nova.db import records
from nova.db import services as service_db
from nova.db import views as views_db
from nova.image import api as image_api
from nova.network import api as network_api
from nova.network import model as network_model
from nova.scheduler import rpcapi as scheduler_rpcapi

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)

RequestedNetwork = network_model.RequestedNetwork

#: Bytes in a GiB (flavor disks are in GiB, image sizes in bytes).
_GIB = 1024**3
#: Times a delete reads a server again that changed under it (placed, say).
_DELETE_ATTEMPTS = 10
#: The states in which a server's metadata may change (with no task), as in
#: Nova, plus this project's DEFINED.
METADATA_VM_STATES = (vm_states.DEFINED, vm_states.ACTIVE, vm_states.STOPPED)


def _check_duplicates(requested: Sequence[RequestedNetwork]) -> None:
    """Refuse a port, or a network without a port, asked for twice.

    :raises nova.exception.Invalid: one was.
    """
    ports = [entry.port_id for entry in requested if entry.port_id]
    if len(ports) != len(set(ports)):
        raise exception.Invalid(reason="A port may be requested only once.")
    networks = [entry.network_id for entry in requested if not entry.port_id]
    if len(networks) != len(set(networks)):
        raise exception.Invalid(reason="A network may be requested only once.")


def _image_id_of(image_ref: str) -> str:
    """Return the image id of an ``imageRef``: an id, or a URL ending with one (as Nova).

    :raises nova.exception.InvalidImageRef: the last part is not a UUID.
    """
    image_id = image_ref.rstrip("/").rsplit("/", 1)[-1]
    if not uuidutils.is_uuid_like(image_id):
        raise exception.InvalidImageRef()
    return image_id


def _check_image_fits(image: Mapping, flavor: records.Flavor) -> None:
    """Refuse an image that is not active or that the flavor is too small for (Nova's checks).

    :raises nova.exception.ImageNotActive: its status is not ``active``.
    :raises nova.exception.FlavorMemoryTooSmall: the flavor's RAM is below ``min_ram``.
    :raises nova.exception.FlavorDiskSmallerThanImage: the image is bigger than the root disk.
    :raises nova.exception.FlavorDiskSmallerThanMinDisk: the root disk is below ``min_disk``.
    """
    if image.get("status") != "active":
        raise exception.ImageNotActive(image_id=image.get("id"))
    if flavor.memory_mb < int(image.get("min_ram") or 0):
        raise exception.FlavorMemoryTooSmall()
    # A flavor without a root disk (0 GB) takes the image's size, as Nova's.
    if flavor.root_gb:
        root = flavor.root_gb * _GIB
        size = int(image.get("size") or 0)
        if size > root:
            raise exception.FlavorDiskSmallerThanImage(flavor_size=root, image_size=size)
        min_disk = int(image.get("min_disk") or 0) * _GIB
        if min_disk > root:
            raise exception.FlavorDiskSmallerThanMinDisk(flavor_size=root, image_min_disk=min_disk)


class API:
    """Server operations, scoped to the caller's project."""

    def __init__(
        self,
        network: network_api.NetworkAPI | None = None,
        scheduler: scheduler_rpcapi.SchedulerAPI | None = None,
        compute: compute_rpcapi.ComputeAPI | None = None,
    ) -> None:
        self._network = network
        if network is None:
            network_api.backend_class()  # imported now; made when first used
        self._scheduler = scheduler
        self.compute_rpcapi = compute or compute_rpcapi.ComputeAPI()

    network = utils.LazyDependency(network_api.get_api)
    scheduler = utils.LazyDependency(scheduler_rpcapi.SchedulerAPI)
    image = utils.LazyDependency(image_api.API)

    # --- reading ---------------------------------------------------------------

    def get(self, context: nova_context.RequestContext, server_id: str) -> records.Instance:
        """Return a server of the caller's project.

        :raises nova.exception.InstanceNotFound: none, or another project's.
        """
        return instance_db.instance_get_by_uuid(context, server_id)

    def get_for_view(
        self, context: nova_context.RequestContext, server_id: str
    ) -> views_db.InstanceViewData:
        """Return a server of the caller's project with what its view shows, in one transaction.

        :raises nova.exception.InstanceNotFound: none, or another project's.
        """
        return self._with_network_addresses(
            context, views_db.instance_get_for_view(context, server_id)
        )

    def get_all_for_view(
        self,
        context: nova_context.RequestContext,
        filters: Mapping | None = None,
        limit: int | None = None,
        marker: str | None = None,
        detail: bool = True,
        sort: Sequence[tuple[str, str]] | None = None,
    ) -> views_db.InstanceViewData:
        """Return the caller's servers (every project's for an admin asking so) for their views.

        :param detail: with metadata and addresses (the full views).
        :param sort: ``(column, "asc"|"desc")`` pairs (default: newest first).
        """
        data = views_db.instance_get_all_for_view(
            context,
            filters,
            limit=limit,
            marker=marker,
            detail=detail,
            sort=sort or instance_db.DEFAULT_SORT,
        )
        return self._with_network_addresses(context, data) if detail else data

    def _with_network_addresses(
        self, context: nova_context.RequestContext, data: views_db.InstanceViewData
    ) -> views_db.InstanceViewData:
        """Add the addresses the network service holds (neutron, quantum) to Nova's own.

        Legacy addresses come with the instances' rows: that backend answers
        without a call. A network service that cannot
        be reached leaves its addresses out (logged) rather than failing the
        view.
        """
        if not data.instances:
            return data
        try:
            extra = self.network.get_addresses(context, data.instances)
        except (exception.NetworkServiceUnavailable, exception.NetworkServiceError) as exc:
            LOG.warning("Servers shown without their network service's addresses: %s", exc)
            return data
        for instance_id, addresses in extra.items():
            data.addresses.setdefault(instance_id, []).extend(addresses)
        return data

    def get_addresses(
        self, context: nova_context.RequestContext, server_id: str
    ) -> list[network_model.Address]:
        """Return a server's fixed addresses as its view shows them: ``(label, address, MAC)``.

        :raises nova.exception.InstanceNotFound: none, or another project's.
        """
        data = self.get_for_view(context, server_id)
        return data.addresses.get(data.instances[0].id, [])

    def get_interfaces(
        self, context: nova_context.RequestContext, server_id: str
    ) -> list[network_model.Interface]:
        """Return a server's ports (``os-interface``).

        :raises nova.exception.InstanceNotFound: none, or another project's.
        :raises nova.exception.FeatureNotSupported: the network backend has no ports.
        """
        return self.network.list_interfaces(context, self.get(context, server_id))

    def _running(self, context: nova_context.RequestContext, server_id: str) -> records.Instance:
        """Return a server that is ACTIVE with no task, on a host.

        :raises nova.exception.InstanceInvalidState: it is not.
        """
        instance = self.get(context, server_id)
        if (
            instance.vm_state != vm_states.ACTIVE
            or instance.task_state is not None
            or not instance.host
        ):
            raise exception.InstanceInvalidState(
                instance_id=instance.uuid,
                state=instance.vm_state,
                task_state=instance.task_state,
                expected="ACTIVE with no task",
            )
        return instance

    def _check_hotplug(self) -> None:
        if not self.network.supports_hotplug:
            raise exception.FeatureNotSupported(
                reason="Network driver does not support this function."
            )

    def attach_interface(
        self,
        context: nova_context.RequestContext,
        server_id: str,
        network_id: str | None,
        port_id: str | None,
        fixed_ip: str | None = None,
    ) -> network_model.Interface:
        """Hot-plug a port (given, or made on ``network_id``) into a running server.

        :raises nova.exception.InstanceNotFound: none, or another project's.
        :raises nova.exception.InstanceInvalidState: the server is not ACTIVE.
        :raises nova.exception.FeatureNotSupported: the backend or driver cannot.
        """
        instance = self._running(context, server_id)
        self._check_hotplug()
        attached = self.compute_rpcapi.attach_interface(
            context, instance.host or "", instance.uuid, network_id, port_id, fixed_ip
        )
        for interface in self.network.list_interfaces(context, instance):
            if interface.port_id == attached:
                return interface
        raise exception.PortNotFound(port_id=attached)

    def detach_interface(
        self, context: nova_context.RequestContext, server_id: str, port_id: str
    ) -> None:
        """Hot-unplug a server's port.

        :raises nova.exception.PortNotFound: the server has no such port.
        :raises nova.exception.InstanceInvalidState: the server is not ACTIVE.
        """
        instance = self._running(context, server_id)
        self._check_hotplug()
        self.compute_rpcapi.detach_interface(context, instance.host or "", instance.uuid, port_id)

    def get_metadata(self, context: nova_context.RequestContext, server_id: str) -> dict[str, str]:
        """Return a server's metadata.

        :raises nova.exception.InstanceNotFound: none, or another project's.
        """
        return metadata_db.metadata_get(context, server_id)

    def update_metadata(
        self,
        context: nova_context.RequestContext,
        server_id: str,
        metadata: Mapping[str, str],
        replace: bool = False,
    ) -> dict[str, str]:
        """Merge ``metadata`` into a server's (``replace``: replace it); return the result.

        :raises nova.exception.InstanceNotFound: none, or another project's.
        :raises nova.exception.InstanceInvalidState: the server is busy (409).
        :raises nova.exception.MetadataLimitExceeded: over the project's
            ``metadata_items`` quota (403).
        """
        allowed = quota.get_limits(context, context.project_id or "")["metadata_items"]
        return metadata_db.metadata_update(
            context,
            server_id,
            metadata,
            replace=replace,
            max_items=None if allowed == quota.UNLIMITED else allowed,
            vm_states=METADATA_VM_STATES,
        )

    def delete_metadata_item(
        self, context: nova_context.RequestContext, server_id: str, key: str
    ) -> None:
        """Delete one metadata item of a server.

        :raises nova.exception.InstanceNotFound: none, or another project's.
        :raises nova.exception.MetadataItemNotFound: no such item.
        :raises nova.exception.InstanceInvalidState: the server is busy (409).
        """
        metadata_db.metadata_delete(context, server_id, key, METADATA_VM_STATES)

    def get_availability_zones(
        self, context: nova_context.RequestContext
    ) -> list[tuple[str, records.Service]]:
        """Return every live service with its availability zone, as Nova places them.

        nova-compute services are in their own zone (``default_availability_zone``
        when they name none), the others in ``internal_service_availability_zone``.
        """
        zones = []
        for service in service_db.service_get_all(context.elevated()):
            if service.binary == "nova-compute":
                zone = service.availability_zone or CONF.default_availability_zone
            else:
                zone = CONF.internal_service_availability_zone
            zones.append((zone, service))
        return zones

    def service_is_up(self, service: records.Service) -> bool:
        """Tell whether a service's heartbeat is recent (``service_down_time``)."""
        return service_db.service_is_up(service, CONF.service_down_time)

    def get_vifs(
        self,
        context: nova_context.RequestContext,
        server_id: str,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[records.VirtualInterfaceView]:
        """Return a server's VIFs in order, paged: ``uuid``, ``address``, ``network_uuid``.

        :raises nova.exception.InstanceNotFound: no such server, or another project's.
        """
        vifs = views_db.virtual_interface_get_all_for_view(context, server_id)
        # A server has a handful of NICs: read them all, page here.
        return vifs[offset:] if limit is None else vifs[offset : offset + limit]

    def get_vif(
        self, context: nova_context.RequestContext, server_id: str, vif_id: str
    ) -> records.VirtualInterfaceView:
        """Return one VIF of a server (``uuid``, ``address``, ``network_uuid``).

        :raises nova.exception.InstanceNotFound: no such server, or another project's.
        :raises nova.exception.VirtualInterfaceNotFound: not a VIF of that server.
        """
        return views_db.virtual_interface_get_for_view(context, server_id, vif_id)

    def get_flavors(
        self,
        context: nova_context.RequestContext,
        filters: Mapping | None = None,
        sort: tuple[str, str] = ("flavorid", "asc"),
        limit: int | None = None,
        marker: str | None = None,
    ) -> list[records.Flavor]:
        """Return the live flavors that fit ``filters``, in ``sort`` order, after ``marker``.

        :param filters: ``is_public`` (True, False or None for both),
            ``disabled``, ``min_memory_mb``, ``min_root_gb``.
        :raises nova.exception.MarkerNotFound: ``marker`` is not a listed flavor.
        """
        flavors = flavor_db.flavor_get_all(context, filters or {}, sort)
        if marker is not None:
            ids = [flavor.flavorid for flavor in flavors]
            if marker not in ids:
                raise exception.MarkerNotFound(marker=marker)
            flavors = flavors[ids.index(marker) + 1 :]
        return flavors if limit is None else flavors[:limit]

    def get_flavor(self, context: nova_context.RequestContext, flavor_id: str) -> records.Flavor:
        """Return the live flavor whose public id is ``flavor_id``.

        :raises nova.exception.FlavorNotFound: no such flavor.
        """
        return flavor_db.flavor_get_by_flavor_id(context, flavor_id)

    # --- writing ---------------------------------------------------------------

    def create(
        self,
        context: nova_context.RequestContext,
        flavor_id: str,
        image_ref: str,
        name: str,
        metadata: Mapping[str, str] | None = None,
        min_count: int = 1,
        max_count: int = 1,
        requested_networks: Sequence[RequestedNetwork] | None = None,
        launch: bool = True,
        availability_zone: str | None = None,
        attributes: Mapping[str, object] | None = None,
    ) -> list[records.Instance]:
        """Create ``max_count`` servers with their VIFs; launch them unless ``launch`` is False.

        Fewer, down to ``min_count``, when the project's quota has room for
        no more (as Nova); counted and created in one transaction serialized
        with the project's other creates, so concurrent creates never exceed it.

        :param attributes: more columns of each instance, as the create body
            gave them: ``key_name`` (one of the caller's key pairs: its public
            key is stored too), ``user_data``, ``access_ip_v4``,
            ``access_ip_v6``, ``config_drive``, ``auto_disk_config``,
            ``security_groups`` (see ``nova.db.models.Instance``).

        :param image_ref: with an image service (``[image] backend``), an
            image id or a URL ending with one, checked here (the id is
            stored); without, any string, stored as given.

        :raises nova.exception.Invalid: unknown flavor or key pair, bad counts
            or networks; an unknown image ("Can not find requested image"),
            one not active, or one the flavor is too small for.
        :raises nova.exception.PortInUse: a requested port is attached already.
        :raises nova.exception.QuotaError: not even ``min_count`` fit the quota (403).
        """
        if min_count > max_count:
            raise exception.Invalid(reason="min_count must not be larger than max_count")
        _check_duplicates(requested_networks or ())
        try:
            flavor = flavor_db.flavor_get_by_flavor_id(context, flavor_id)
        except exception.FlavorNotFound as exc:
            raise exception.Invalid(reason=f"Flavor {flavor_id} could not be found.") from exc
        if self.image.is_configured():
            image_ref = self._check_requested_image(context, image_ref, flavor)
        try:
            self.network.validate_networks(context, requested_networks, max_count)
        except (exception.NetworkNotFound, exception.PortNotFound) as exc:
            # Something named in the request body: a bad request, not a 404.
            raise exception.Invalid(reason=exc.format_message()) from exc

        attributes = dict(attributes or {})
        key_name = attributes.get("key_name")
        key_data = None
        if isinstance(key_name, str):
            try:
                key_data = key_pair_db.key_pair_get(context, context.user_id, key_name).public_key
            except exception.KeypairNotFound as exc:
                raise exception.InvalidKeyName() from exc

        reservation_id = "r-" + uuidlib.uuid4().hex[:8]

        def decide(own_limits: dict[str, int], usage: dict[str, int]) -> int:
            limits = quota.merged(own_limits)
            quota.check_metadata(limits, metadata)
            return quota.allowed_instances(
                limits, usage, flavor.vcpus, flavor.memory_mb, min_count, max_count
            )

        def values_of(index: int) -> dict:
            return {
                "project_id": context.project_id,
                "user_id": context.user_id,
                "display_name": name if max_count == 1 else f"{name}-{index + 1}",
                "flavor_id": flavor.id,
                "memory_mb": flavor.memory_mb,
                "vcpus": flavor.vcpus,
                "root_gb": flavor.root_gb,
                "image_ref": image_ref,
                "vm_state": vm_states.DEFINED,
                "availability_zone": availability_zone,
                "reservation_id": reservation_id,
                "launch_index": index,
                "key_data": key_data,
                "metadata": dict(metadata or {}),
                **attributes,
            }

        created = quota_db.instance_create_checked(context, context.project_id, decide, values_of)
        try:
            for instance in created:
                self.network.allocate_for_instance(context, instance, requested_networks)
        except Exception:
            LOG.warning("Creating servers %s failed; removing what was made", reservation_id)
            for instance in reversed(created):
                self._local_delete(context, instance)
            raise
        LOG.info(
            "Defined %d server(s) %s for project %s",
            len(created),
            ", ".join(i.uuid for i in created),
            context.project_id,
        )
        if launch:
            return [self.launch(context, instance.uuid) for instance in created]
        return created

    def _check_requested_image(
        self, context: nova_context.RequestContext, image_ref: str, flavor: records.Flavor
    ) -> str:
        """Return the id of the image ``image_ref`` names once it may boot ``flavor``.

        :raises nova.exception.Invalid: see ``create``.
        """
        image_id = _image_id_of(image_ref)
        try:
            image = self.image.show(context, image_id)
        except exception.ImageNotFound as exc:
            raise exception.ImageRefNotFound() from exc
        _check_image_fits(image, flavor)
        return image_id

    def get_image(self, context: nova_context.RequestContext, image_id: str) -> dict:
        """Return an image of the image service as Glance v2 shows it.

        :raises nova.exception.ImageNotFound: none (or no image service).
        """
        return self.image.show(context, image_id)

    def get_images(
        self,
        context: nova_context.RequestContext,
        filters: Mapping[str, str] | None = None,
        limit: int | None = None,
        marker: str | None = None,
    ) -> list[dict]:
        """Return the images of the image service (none without one).

        :raises nova.exception.ImageNotFound: ``marker`` is not an image.
        """
        return self.image.get_all(context, filters, limit=limit, marker=marker)

    def delete_image(self, context: nova_context.RequestContext, image_id: str) -> None:
        """Delete an image in the image service.

        :raises nova.exception.ImageNotFound: none (or no image service).
        """
        self.image.delete(context, image_id)

    def launch(self, context: nova_context.RequestContext, server_id: str) -> records.Instance:
        """Hand a DEFINED server to the scheduler; return it as it was handed over.

        :raises nova.exception.InstanceInvalidState: it is not DEFINED, or is
            being deleted (of concurrent launches exactly one gets past this).
        """
        instance = instance_db.instance_update(
            context,
            server_id,
            {"vm_state": vm_states.BUILDING, "task_state": vm_states.SCHEDULING},
            expected={"vm_state": vm_states.DEFINED, "task_state": None},
        )
        self.scheduler.run_instances(context, [server_id])
        LOG.debug("Server %s handed to the scheduler", server_id)
        return instance

    def reset_state(
        self, context: nova_context.RequestContext, server_id: str, vm_state: str
    ) -> records.Instance:
        """Set a server's ``vm_state`` to active or error and clear its task (os-resetState).

        Its claim on its host follows (``nova.db.services.instance_reset_state``).

        :raises nova.exception.Invalid: another state.
        :raises nova.exception.InstanceNotFound: no such server (in the project).
        """
        return service_db.instance_reset_state(context, server_id, vm_state)[1]

    def get_console_output(
        self, context: nova_context.RequestContext, server_id: str, tail_length: int | None = None
    ) -> str:
        """Return the end of a server's console log, from its compute host.

        :param tail_length: the number of last lines (None: all that is kept).
        :raises nova.exception.InstanceNotFound: no such server (in the project),
            or its host has no guest of it.
        :raises nova.exception.InstanceNotReady: it has no host (not built, or failed to).
        :raises nova.exception.ConsoleNotAvailable: its guest has no console log.
        :raises NotImplementedError: its host's driver keeps no console.
        """
        instance = self.get(context, server_id)
        if not instance.host:
            raise exception.InstanceNotReady(instance_id=instance.uuid)
        return self.compute_rpcapi.get_console_output(
            context, instance.host, instance.uuid, tail_length
        )

    def update(
        self, context: nova_context.RequestContext, server_id: str, values: Mapping[str, object]
    ) -> records.Instance:
        """Change a server's ``display_name``, ``access_ip_v4/v6`` or ``auto_disk_config``.

        :raises nova.exception.InstanceNotFound: no such server (in the project).
        """
        if not values:
            return self.get(context, server_id)
        return instance_db.instance_update(context, server_id, values)

    def delete(self, context: nova_context.RequestContext, server_id: str) -> None:
        """Delete a server: on its host through compute, else right here.

        Right here when it has no host, or its host's compute service is down
        (``_delete_on_down_host``, Nova's local delete). Which of the two is
        decided by a conditional write: task_state DELETING, only if the
        server's host and states are still those just read. A scheduler's
        claim needs task_state SCHEDULING, so once a server without a host is
        marked, no scheduler can place it and the delete runs here; if a
        scheduler placed it first, the write fails and the server is read
        again, now with its host.

        :raises nova.exception.InstanceNotFound: no such server (in the project).
        :raises nova.exception.InstanceInvalidState: it kept changing under the delete.
        """
        for _attempt in range(_DELETE_ATTEMPTS):
            instance = self.get(context, server_id)
            if instance.host and not self._compute_is_up(context, instance.host):
                self._delete_on_down_host(context, instance)
                return
            try:
                instance = instance_db.instance_update(
                    context,
                    server_id,
                    {"task_state": vm_states.DELETING},
                    expected={
                        "host": instance.host,
                        "vm_state": instance.vm_state,
                        "task_state": instance.task_state,
                    },
                )
            except exception.InstanceInvalidState:
                LOG.debug("Server %s changed while being deleted; reading it again", server_id)
                continue
            if instance.host:
                self.compute_rpcapi.terminate_instance(context, instance.host, instance.uuid)
            else:
                self._local_delete(
                    context, instance, expected={"host": None, "task_state": vm_states.DELETING}
                )
            return
        raise exception.InstanceInvalidState(
            instance_id=server_id,
            state=instance.vm_state,
            task_state=instance.task_state,
            expected="a state that holds still long enough to delete it",
        )

    @staticmethod
    def _compute_is_up(context: nova_context.RequestContext, host: str) -> bool:
        """Tell whether the compute service of ``host`` is up (see ``service_down_time``)."""
        service = service_db.service_get(context.elevated(), host, "nova-compute")
        return service is not None and service_db.service_is_up(service, CONF.service_down_time)

    def _delete_on_down_host(self, context: nova_context.RequestContext, instance) -> None:
        """Delete a server whose host's compute is down without it, as Nova's local delete.

        The ports and VIFs are released and the claim given back here; the
        guest, if any is left, goes when that compute starts again
        (``init_host`` removes guests of deleted instances).
        """
        LOG.warning(
            "The compute service of %s is down; deleting server %s without it",
            instance.host,
            instance.uuid,
        )
        try:
            # Taken over: the scheduler's sweep no longer reschedules it.
            instance = instance_db.instance_update(
                context,
                instance.uuid,
                {"task_state": vm_states.DELETING},
                expected={"host": instance.host},
            )
        except exception.InstanceInvalidState:
            # Rescheduled off that host meanwhile: delete it where it is now.
            self.delete(context, instance.uuid)
            return
        self.network.deallocate_for_instance(context, instance)
        try:
            service_db.instance_transition(
                context.elevated(),
                instance.uuid,
                expected={"task_state": vm_states.DELETING},
                destroy=True,
            )
        except exception.InstanceNotFound:
            return
        LOG.info("Deleted server %s (its host %s is down)", instance.uuid, instance.host)

    def _local_delete(self, context: nova_context.RequestContext, instance, expected=None) -> None:
        """Release the network of an instance no host has, then delete its row.

        :param expected: the row is deleted only if it still holds these
            values (``instance_update``'s ``expected``).
        """
        try:
            self.network.deallocate_for_instance(context, instance)
        except exception.NovaException:
            LOG.exception("Could not release the network of %s", instance.uuid)
            raise
        try:
            service_db.instance_transition(context, instance.uuid, expected=expected, destroy=True)
        except exception.InstanceNotFound:
            LOG.info("Server %s was deleted meanwhile", instance.uuid)
            return
        LOG.info("Deleted server %s", instance.uuid)
