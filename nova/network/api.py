"""The one network interface compute and the API use, over pluggable backends.

``get_api()`` returns the backend named by ``[network] backend``:
``quantum`` (the reference Quantum v1.1 service), ``neutron`` (Neutron v2.0)
or ``legacy`` (nova-network's flat and VLAN managers). Every backend stores
one ``virtual_interfaces`` row per NIC; quantum and neutron VIFs have no
``network_id`` but name their ``port_id``.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence

import nova.conf
from nova import context as nova_context
from nova import exception
from nova import utils
from nova.db import records
from nova.network import model

CONF = nova.conf.CONF

#: Entry-point group of the backends (``setup.py``).
NAMESPACE = "nova.network.backends"


def project_of(owner: records.Instance | nova_context.RequestContext) -> str:
    """Return the project of an instance or a request: its tenant on an external network service.

    :raises nova.exception.Invalid: it has none (an admin context of no project).
    """
    if owner.project_id is None:
        raise exception.Invalid(reason="the network service needs a project")
    return owner.project_id


def port_of(vif: records.VirtualInterface) -> tuple[str, str]:
    """Return the network uuid and port id of a VIF on an external network service."""
    if vif.network_uuid is None or vif.port_id is None:
        raise exception.NovaException(f"VIF {vif.uuid} has no port on an external network")
    return vif.network_uuid, vif.port_id


class NetworkAPI(abc.ABC):
    """What a network backend does for Nova."""

    #: Whether ``allocate_port_for_instance``/``deallocate_port_for_instance`` work.
    supports_hotplug = False

    @abc.abstractmethod
    def validate_networks(
        self,
        context: nova_context.RequestContext,
        requested: Sequence[model.RequestedNetwork] | None,
        max_count: int,
    ) -> None:
        """Check a server create's ``networks`` before anything is written.

        :param requested: the entries in order; ``None`` means the default
            (every network the project may use); an empty list, no NIC.
        :param max_count: how many servers the request creates; a port can
            serve one server only.
        :raises nova.exception.NetworkNotFound: unknown or foreign network.
        :raises nova.exception.PortNotFound: unknown or foreign port.
        :raises nova.exception.PortInUse: the port is attached already.
        :raises nova.exception.Invalid: anything else wrong with the request.
        """

    @abc.abstractmethod
    def allocate_for_instance(
        self,
        context: nova_context.RequestContext,
        instance: records.Instance,
        requested: Sequence[model.RequestedNetwork] | None,
    ) -> list[records.VirtualInterface]:
        """Create the instance's VIFs and their logical attachments, in order.

        The ports' configuration is not read here: nothing needs it before
        a host binds the ports (``bind_for_host``, ``get_instance_nw_info``).
        On failure everything this call did is undone before it raises.

        :returns: the VIF rows made, in order.
        """

    @abc.abstractmethod
    def get_instance_nw_info(
        self, context: nova_context.RequestContext, instance: records.Instance
    ) -> model.NetworkInfo:
        """Return the instance's VIFs with their port configuration, in VIF order."""

    def bind_for_host(
        self, context: nova_context.RequestContext, instance: records.Instance, host: str
    ) -> model.NetworkInfo:
        """Bind the instance's ports to ``host`` and return the network info.

        Backends whose configuration does not depend on the host (quantum,
        legacy) just return the network info.
        """
        return self.get_instance_nw_info(context, instance)

    def get_addresses(
        self, context: nova_context.RequestContext, instances: Sequence[records.InstanceView]
    ) -> dict[int, list[model.Address]]:
        """Return the fixed addresses the network service holds for these instances.

        ``{instance id: [(network label, address, MAC), ...]}``, for the
        servers' ``addresses``. A backend whose addresses are in Nova's own
        database (legacy) returns ``{}``: the view reads those with the
        instances, at no extra cost.

        :raises nova.exception.NetworkServiceUnavailable: the service cannot be reached.
        """
        return {}

    def list_interfaces(
        self, context: nova_context.RequestContext, instance: records.Instance
    ) -> list[model.Interface]:
        """Return the instance's ports (``os-interface``).

        :raises nova.exception.FeatureNotSupported: the backend has no ports (legacy).
        """
        raise exception.FeatureNotSupported(reason="Network driver does not support this function.")

    def allocate_port_for_instance(
        self,
        context: nova_context.RequestContext,
        instance: records.Instance,
        requested: model.RequestedNetwork,
    ) -> records.VirtualInterface:
        """Add one VIF to a running instance (hot-plug): a port made or reused, attached.

        Checked as a server create's entry; on failure everything done is
        undone before it raises.

        :raises nova.exception.FeatureNotSupported: the backend cannot (legacy).
        :raises nova.exception.PortNotFound: unknown or foreign port.
        :raises nova.exception.NetworkNotFound: unknown or foreign network.
        :raises nova.exception.PortInUse: the port is attached already.
        """
        raise exception.FeatureNotSupported(reason="Network driver does not support this function.")

    def deallocate_port_for_instance(
        self, context: nova_context.RequestContext, instance: records.Instance, port_id: str
    ) -> None:
        """Remove the VIF of ``port_id`` from an instance: detach the port (delete it if Nova
        made it) and soft-delete the VIF row. Tolerates a port already gone.

        :raises nova.exception.FeatureNotSupported: the backend cannot (legacy).
        :raises nova.exception.PortNotFound: the instance has no VIF on that port.
        """
        raise exception.FeatureNotSupported(reason="Network driver does not support this function.")

    @abc.abstractmethod
    def deallocate_for_instance(
        self, context: nova_context.RequestContext, instance: records.Instance
    ) -> None:
        """Release the instance's ports and addresses and soft-delete its VIFs.

        Ports Nova created are deleted; ports the user brought are detached
        (unbound) and kept. Tolerates what is already gone.
        """


def backend_class(backend: str | None = None) -> type[NetworkAPI]:
    """Return the class of the configured (or named) network backend, imported.

    Services call this as they are built, so the import (``requests`` and
    the backend's modules, some 100 ms) is paid at start-up, not by the
    first server, and a backend that cannot be imported stops the start.
    """
    return utils.load_plugin(NAMESPACE, backend or CONF.network.backend, NetworkAPI)


def get_api(backend: str | None = None) -> NetworkAPI:
    """Return an instance of the configured (or named) network backend."""
    return backend_class(backend)()
