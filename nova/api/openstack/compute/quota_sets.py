"""``/os-quota-sets/{tenant_id}``: a project's limits (Nova 2.1's format).

Read by admins and the project's own members (``show``, ``detail``), the
defaults by anyone; set (``PUT``) and reset to the defaults (``DELETE``) by
admins only.
"""

from __future__ import annotations

from oslo_utils import strutils

from nova import exception
from nova import quota
from nova.api.openstack import policy
from nova.api.openstack import wsgi
from nova.api.openstack.schemas import quota_sets as schema

_TRUE = frozenset(strutils.TRUE_STRINGS)


def _limit(resource: str, value) -> int:
    """Return a validated limit (the schema let a number or a string of digits through)."""
    number = int(value)
    if not -1 <= number <= schema.MAX_LIMIT:
        raise exception.ValidationError(
            reason=f"Invalid input for body quota_set/{resource}: {value!r} is not "
            f"between -1 and {schema.MAX_LIMIT}"
        )
    return number


class QuotaSetsController:
    #: The schemas of each action (also read by the OpenAPI description).
    query_schemas = {"show": schema.show_query, "detail": schema.show_query}
    body_schemas = {"update": schema.update}
    #: Success status and whether it has a body, where not the usual (Nova 2.1's).
    success = {"delete": (202, False)}

    def show(self, request, tenant_id):
        """Show a project's limits."""
        policy.authorize(
            request.context, "os_compute_api:os-quota-sets:show", {"project_id": tenant_id}
        )
        limits = quota.get_limits(request.context, tenant_id)
        return 200, {"quota_set": {"id": tenant_id, **dict(sorted(limits.items()))}}

    def detail(self, request, tenant_id):
        """Show a project's limits with what it uses."""
        context = request.context
        policy.authorize(context, "os_compute_api:os-quota-sets:detail", {"project_id": tenant_id})
        limits = quota.get_limits(context, tenant_id)
        usage = quota.get_usage(context, tenant_id)
        body: dict = {"id": tenant_id}
        for resource, limit in sorted(limits.items()):
            body[resource] = {"in_use": usage.get(resource, 0), "limit": limit, "reserved": 0}
        return 200, {"quota_set": body}

    def defaults(self, request, tenant_id):
        """Show the default limits."""
        policy.authorize(
            request.context, "os_compute_api:os-quota-sets:defaults", {"project_id": tenant_id}
        )
        return 200, {"quota_set": {"id": tenant_id, **dict(sorted(quota.defaults().items()))}}

    def update(self, request, tenant_id, body):
        """Set a project's limits (admins)."""
        context = request.context
        policy.authorize(context, "os_compute_api:os-quota-sets:update", {"project_id": tenant_id})
        values = dict(wsgi.validate(body, schema.update)["quota_set"])
        force = str(values.pop("force", False)).lower() in _TRUE
        limits = {
            resource: _limit(resource, value)
            for resource, value in values.items()
            if resource in quota.SETTABLE
        }
        quota.update_limits(context, tenant_id, limits, force=force)
        return 200, {"quota_set": dict(sorted(quota.get_limits(context, tenant_id).items()))}

    def delete(self, request, tenant_id):
        """Give a project the default limits again (admins)."""
        policy.authorize(
            request.context, "os_compute_api:os-quota-sets:delete", {"project_id": tenant_id}
        )
        quota.reset_limits(request.context, tenant_id)
        return 202, None
