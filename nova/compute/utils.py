"""What the scheduler and the compute manager both do to an instance: fail it with a fault.

Both put an instance in ERROR (the scheduler when no host fits, compute when
a build fails); neither imports the other's manager to do so.
"""

from __future__ import annotations

import logging

import nova.conf
from nova import context as nova_context
from nova.db import instances as instance_db
from nova.db import records

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)


def record_fault(
    context: nova_context.RequestContext,
    instance: records.Instance,
    code: int,
    message: str,
    details: str = "",
) -> None:
    """Put ``instance`` in ERROR with a fault record (one transaction)."""
    instance_db.instance_set_error(
        context,
        instance.uuid,
        {"code": code, "message": message[:255], "details": details, "host": CONF.host},
    )


def give_up(
    context: nova_context.RequestContext, instance_uuid: str, message: str, details: str
) -> None:
    """Best effort: put an instance in ERROR after an unexpected failure, or log why not."""
    try:
        instance_db.instance_set_error(
            context,
            instance_uuid,
            {"code": 500, "message": message[:255], "details": details, "host": CONF.host},
        )
    except Exception:  # noqa: BLE001 - nothing more can be done here; say so
        LOG.exception("Could not put instance %s in ERROR", instance_uuid)
