"""The compute driver interface: what ``nova-compute`` asks of a hypervisor.

Drivers are picked by alias (``libvirt``, ``fake``: entry points of
``nova.virt.drivers``) or import path. They receive the instance and its
network info; they never read or write the database.
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Mapping
from typing import Protocol

from nova import context as nova_context
from nova import utils
from nova.network import model

#: Entry-point group of the compute drivers (``setup.py``).
NAMESPACE = "nova.virt.drivers"


class Instance(Protocol):
    """The instance fields a driver uses (read-only: ``nova.db.records.Instance`` has them)."""

    @property
    def id(self) -> int: ...

    @property
    def uuid(self) -> str: ...

    @property
    def display_name(self) -> str | None: ...

    @property
    def memory_mb(self) -> int | None: ...

    @property
    def vcpus(self) -> int | None: ...

    @property
    def root_gb(self) -> int | None: ...

    @property
    def image_ref(self) -> str | None: ...


@dataclasses.dataclass(frozen=True)
class HostResources:
    """Capacity of the host, reported into ``compute_nodes``."""

    vcpus: int
    memory_mb: int
    local_gb: int
    hypervisor_type: str
    #: The hypervisor's version as one integer (libvirt: major * 1000000 + minor * 1000 + micro).
    hypervisor_version: int = 0
    #: The host's CPU as JSON (``arch``, ``model``, ``topology``), shown by ``os-hypervisors``.
    cpu_info: str = "{}"


class ComputeDriver(abc.ABC):
    """A hypervisor as compute uses it."""

    @abc.abstractmethod
    def spawn(
        self,
        instance: Instance,
        network_info: model.NetworkInfo,
        context: nova_context.RequestContext | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        """Plug the VIFs, build the guest and start it.

        :param context: the request's, for the image service.
        :param metadata: the server metadata (the config drive's ``meta``).

        On failure everything done is undone before the error propagates.
        """

    @abc.abstractmethod
    def destroy(self, instance: Instance, network_info: model.NetworkInfo) -> None:
        """Stop and remove the guest, unplug its VIFs, remove its files.

        Tolerates a guest or devices already gone.
        """

    def get_host_uptime(self) -> str:
        """Return the host's ``uptime`` line (time, up, users, load averages).

        :raises NotImplementedError: the driver does not tell.
        """
        raise NotImplementedError

    def get_console_output(self, instance: Instance) -> str:
        """Return the end of the guest's console log, lines ending with ``\\n``.

        :raises nova.exception.InstanceNotFound: the host has no such guest.
        :raises nova.exception.ConsoleNotAvailable: the guest has no console log.
        :raises NotImplementedError: the driver keeps no console.
        """
        raise NotImplementedError

    def attach_interface(self, instance: Instance, vif: model.VIF) -> None:
        """Plug one VIF and add its NIC to the running guest (and to its definition).

        On failure nothing stays plugged.

        :raises NotImplementedError: the driver cannot hot-plug.
        """
        raise NotImplementedError

    def detach_interface(self, instance: Instance, vif: model.VIF) -> None:
        """Remove one VIF's NIC from the running guest (and its definition), unplug it.

        Tolerates a NIC already gone.

        :raises NotImplementedError: the driver cannot hot-unplug.
        """
        raise NotImplementedError

    @abc.abstractmethod
    def list_instance_uuids(self) -> list[str]:
        """Return the uuids of the guests this host has."""

    @abc.abstractmethod
    def get_available_resource(self) -> HostResources:
        """Return the host's capacity."""


def load_driver(name: str, **kwargs) -> ComputeDriver:
    """Return an instance of the compute driver ``name`` (alias or import path).

    :raises nova.exception.PluginNotFound: no such driver.
    """
    return utils.load_plugin(NAMESPACE, name, ComputeDriver)(**kwargs)
