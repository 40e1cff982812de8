"""Who may do what: one declarative table of rules.

``project`` allows anyone authenticated (every query is scoped to their
project anyway); ``admin`` only admins; ``owner`` admins and the members of
the project the request names.
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
    "os_compute_api:os-console-output": "project",
    "os-interface:list": "project",
    "os-interface:show": "project",
    "os_compute_api:os-attach-interfaces:create": "project",
    "os_compute_api:os-attach-interfaces:delete": "project",
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
    "os-quota-sets:show": "owner",
    "os-quota-sets:detail": "owner",
    "os-quota-sets:defaults": "project",
    "os-quota-sets:update": "admin",
    "os-quota-sets:delete": "admin",
    "limits:index": "project",
    "limits:other_project": "admin",
    "os-keypairs:index": "project",
    "os-keypairs:create": "project",
    "os-keypairs:show": "project",
    "os-keypairs:delete": "project",
    "images:index": "project",
    "images:show": "project",
    # The image service decides (Glance: the image's owner or an admin) ...
    "images:delete": "project",
    # ... but the local store has no owners: its images are deleted by admins.
    "images:delete:local": "admin",
}


def check(context: nova_context.RequestContext, action: str, project_id: str | None = None) -> bool:
    """Tell whether ``context`` may do ``action`` (on ``project_id``'s things for ``owner``)."""
    rule = RULES[action]
    if rule == "owner":
        return context.is_admin or project_id == context.project_id
    return rule == "project" or (rule == "admin" and context.is_admin)


def authorize(
    context: nova_context.RequestContext, action: str, project_id: str | None = None
) -> None:
    """Refuse ``action`` to ``context`` unless the rule allows it.

    :raises nova.exception.PolicyNotAuthorized: it does not (403).
    """
    if not check(context, action, project_id):
        raise exception.PolicyNotAuthorized(action=action)
