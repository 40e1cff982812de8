"""The ``os-getConsoleOutput`` server action: the end of a server's console log.

``POST /servers/{id}/action {"os-getConsoleOutput": {"length": N}}`` answers
200 ``{"output": "..."}`` with the last N lines (``length`` null, -1 or
absent: all the host keeps, up to 100 KiB), read by the server's compute
host (an RPC call). As Nova: a server without a host is 409, one whose guest
has no console 404, a host whose driver keeps none 501; control characters
other than tab and newline are removed from the output.
"""

from __future__ import annotations

import re

from nova import exception
from nova.api.openstack import policy
from nova.api.openstack import wsgi
from nova.api.openstack.schemas import console_output as schema

ACTION = "os-getConsoleOutput"
RULE = "os_compute_api:os-console-output"
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f]")


class FeatureNotSupported(exception.NovaException):
    msg_fmt = "Feature not supported: the server's compute driver keeps no console."
    code = 501
    safe = True


def actions(compute_api) -> dict:
    """Return this module's server actions (name -> handler)."""

    def get_console_output(request, server_id, argument):
        """Return the last lines of a server's console."""
        argument = wsgi.validate(argument, schema.get_console_output, ACTION)
        instance = compute_api.get(request.context, server_id)  # 404 before 403
        policy.authorize(request.context, RULE, {"project_id": instance.project_id})
        length = argument.get("length")
        tail = None if length is None or int(length) == -1 else int(length)
        try:
            output = compute_api.get_console_output(request.context, server_id, tail)
        except NotImplementedError as exc:
            raise FeatureNotSupported() from exc
        return 200, {"output": _CONTROL.sub("", output)}

    return {ACTION: get_console_output}


#: The argument schema of each action (the servers' action body lists them).
SCHEMAS = {ACTION: schema.get_console_output}
