"""What the scheduler and the compute manager both do to an instance: fail it with a fault.

Both put an instance in ERROR (the scheduler when no host fits, compute when
a build fails); neither imports the other's manager to do so. Putting an
instance in ERROR gives back its claim on its host, if it held one, in the
same transaction (``nova.db.services.instance_set_error``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import nova.conf
from nova import context as nova_context
from nova.db import records
from nova.db import services as service_db

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)


def record_fault(
    context: nova_context.RequestContext,
    instance: records.Instance,
    code: int,
    message: str,
    details: str = "",
    expected: Mapping[str, Any] | None = None,
) -> None:
    """Put ``instance`` in ERROR with a fault record, its claim released (one transaction).

    :param expected: as ``instance_update``'s.
    :raises nova.exception.InstanceNotFound: it is gone.
    :raises nova.exception.InstanceInvalidState: ``expected`` did not match.
    """
    service_db.instance_set_error(
        context,
        instance.uuid,
        {"code": code, "message": message[:255], "details": details, "host": CONF.host},
        expected,
    )


def give_up(
    context: nova_context.RequestContext, instance_uuid: str, message: str, details: str
) -> None:
    """Best effort: put an instance in ERROR after an unexpected failure, or log why not."""
    try:
        service_db.instance_set_error(
            context,
            instance_uuid,
            {"code": 500, "message": message[:255], "details": details, "host": CONF.host},
        )
    except Exception:  # noqa: BLE001 - nothing more can be done here; say so
        LOG.exception("Could not put instance %s in ERROR", instance_uuid)
