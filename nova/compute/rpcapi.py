"""Client side of a compute host's RPC interface (topic ``compute.<host>``)."""

from __future__ import annotations

from nova import context as nova_context
from nova import rpc

TOPIC = "compute"


class ComputeAPI:
    """Casts (and calls) to the compute service of one host."""

    def _client(self, host: str):
        return rpc.get_client(TOPIC, server=host).prepare(server=host)

    def run_instance(
        self,
        context: nova_context.RequestContext,
        host: str,
        instance_uuid: str,
        attempt: int = 1,
        excluded_hosts: list[str] | None = None,
    ) -> None:
        """Ask ``host`` to build and start an instance the scheduler placed there."""
        self._client(host).cast(
            context,
            "run_instance",
            instance_uuid=instance_uuid,
            attempt=attempt,
            excluded_hosts=excluded_hosts or [],
        )

    def terminate_instance(
        self, context: nova_context.RequestContext, host: str, instance_uuid: str
    ) -> None:
        """Ask ``host`` to destroy an instance and release what it holds."""
        self._client(host).cast(context, "terminate_instance", instance_uuid=instance_uuid)

    def get_host_uptime(self, context: nova_context.RequestContext, host: str) -> str:
        """Ask ``host`` for its ``uptime`` line (a call).

        :raises NotImplementedError: the host's driver does not tell.
        """
        return self._client(host).call(context, "get_host_uptime")

    def get_console_output(
        self,
        context: nova_context.RequestContext,
        host: str,
        instance_uuid: str,
        tail_length: int | None = None,
    ) -> str:
        """Ask ``host`` for the end of a guest's console log (a call: waits for the answer).

        :raises nova.exception.InstanceNotFound: the host has no such guest.
        :raises nova.exception.ConsoleNotAvailable: the guest has no console log.
        :raises NotImplementedError: the host's driver keeps no console.
        """
        return self._client(host).call(
            context, "get_console_output", instance_uuid=instance_uuid, tail_length=tail_length
        )

    def attach_interface(
        self,
        context: nova_context.RequestContext,
        host: str,
        instance_uuid: str,
        network_id: str | None,
        port_id: str | None,
        fixed_ip: str | None = None,
    ) -> str:
        """Ask ``host`` to hot-plug a port (given, or made on a network); return its id (a call)."""
        return self._client(host).call(
            context,
            "attach_interface",
            instance_uuid=instance_uuid,
            network_id=network_id,
            port_id=port_id,
            fixed_ip=fixed_ip,
        )

    def detach_interface(
        self, context: nova_context.RequestContext, host: str, instance_uuid: str, port_id: str
    ) -> None:
        """Ask ``host`` to hot-unplug a server's port (a call: errors come back)."""
        self._client(host).call(
            context, "detach_interface", instance_uuid=instance_uuid, port_id=port_id
        )
