"""Client side of the scheduler's RPC interface (topic ``scheduler``)."""

from __future__ import annotations

from nova import context as nova_context
from nova import rpc

TOPIC = "scheduler"


class SchedulerAPI:
    """Casts to whichever scheduler picks up the ``scheduler`` topic."""

    def __init__(self) -> None:
        self.client = rpc.get_client(TOPIC)

    def run_instances(self, context: nova_context.RequestContext, instance_uuids: list[str]):
        """Ask a scheduler to place and start these instances (no answer)."""
        self.client.prepare().cast(context, "run_instances", instance_uuids=instance_uuids)

    def reschedule(
        self,
        context: nova_context.RequestContext,
        instance_uuid: str,
        attempt: int,
        excluded_hosts: list[str],
    ) -> None:
        """Ask a scheduler to place an instance again, away from ``excluded_hosts``."""
        self.client.prepare().cast(
            context,
            "reschedule",
            instance_uuid=instance_uuid,
            attempt=attempt,
            excluded_hosts=excluded_hosts,
        )
