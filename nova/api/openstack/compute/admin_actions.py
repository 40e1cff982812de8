"""The ``os-resetState`` admin server action: set a stuck server's state.

``POST /servers/{id}/action {"os-resetState": {"state": "error"|"active"}}``
answers 202 with no body, as Nova's: the server's ``vm_state`` becomes the
state asked for and its ``task_state`` is cleared, whatever it was doing.
Admins only (``os_compute_api:os-admin-actions:reset_state``); an unknown
server is 404 (found before the rule is checked, as Nova does), another
state 400. Its claim on its host follows: given back in error, taken again
when a server on a host goes back to active.
"""

from __future__ import annotations

from nova.api.openstack import policy
from nova.api.openstack import wsgi
from nova.api.openstack.schemas import admin_actions as schema

RESET_STATE = "os-resetState"
RULE = "os_compute_api:os-admin-actions:reset_state"


def actions(compute_api) -> dict:
    """Return this module's server actions (name -> handler)."""

    def reset_state(request, server_id, argument):
        """Set a server's state to active or error and clear its task."""
        argument = wsgi.validate(argument, schema.reset_state, RESET_STATE)
        instance = compute_api.get(request.context, server_id)  # 404 before 403
        policy.authorize(request.context, RULE, {"project_id": instance.project_id})
        compute_api.reset_state(request.context, server_id, argument["state"])
        return 202, None

    return {RESET_STATE: reset_state}


#: The argument schema of each action (the servers' action body lists them).
SCHEMAS = {RESET_STATE: schema.reset_state}
