"""Who may do what: one declarative table of rules.

``project`` allows anyone authenticated (every query is scoped to their
project anyway); ``admin`` only admins.
"""

from __future__ import annotations

from nova import context as nova_context
from nova import exception

RULES = {
    "servers:index": "project",
    "servers:create": "project",
    "servers:show": "project",
    "servers:update": "project",
    "servers:delete": "project",
    "servers:index:all_tenants": "admin",
    "servers:show:host_status": "admin",
    "servers:show:fault_details": "admin",
    "server_metadata:index": "project",
    "server_metadata:show": "project",
    "server_metadata:create": "project",
    "server_metadata:update": "project",
    "server_metadata:update_all": "project",
    "server_metadata:delete": "project",
    "ips:index": "project",
    "ips:show": "project",
    "os-interface:list": "project",
    "os-interface:show": "project",
    "os-interface:create": "project",
    "os-interface:delete": "project",
    "os-availability-zone:list": "project",
    "os-availability-zone:detail": "admin",
    "flavors:index": "project",
    "extensions:index": "project",
    "flavors:extra_specs:index": "project",
    "flavors:extra_specs:create": "admin",
    "flavors:extra_specs:update": "admin",
    "flavors:extra_specs:delete": "admin",
    "flavors:manage:create": "admin",
    "flavors:manage:delete": "admin",
    "services:list": "admin",
    "services:update": "admin",
    "services:delete": "admin",
    "hypervisors:list": "admin",
    "hypervisors:statistics": "admin",
}


def check(context: nova_context.RequestContext, action: str) -> bool:
    """Tell whether ``context`` may do ``action``."""
    rule = RULES[action]
    return rule == "project" or (rule == "admin" and context.is_admin)


def authorize(context: nova_context.RequestContext, action: str) -> None:
    """Refuse ``action`` to ``context`` unless the rule allows it.

    :raises nova.exception.PolicyNotAuthorized: it does not (403).
    """
    if not check(context, action):
        raise exception.PolicyNotAuthorized(action=action)
