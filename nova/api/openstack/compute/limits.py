"""``/limits``: the caller's project's absolute limits and usage (Nova 2.1's format).

``?tenant_id=`` names another project (admins only). Nova 2.1 answers an
empty ``rate`` list (rate limits left Nova long ago).
"""

from __future__ import annotations

from nova import quota
from nova.api.openstack import policy
from nova.api.openstack import wsgi
from nova.api.openstack.schemas import limits as schema

# Nova's absolute limit names -> quota resources.
_MAXIMA = {
    "maxImageMeta": "metadata_items",
    "maxPersonality": "injected_files",
    "maxPersonalitySize": "injected_file_content_bytes",
    "maxSecurityGroupRules": "security_group_rules",
    "maxSecurityGroups": "security_groups",
    "maxServerMeta": "metadata_items",
    "maxTotalCores": "cores",
    "maxTotalFloatingIps": "floating_ips",
    "maxTotalInstances": "instances",
    "maxTotalKeypairs": "key_pairs",
    "maxTotalRAMSize": "ram",
    "maxServerGroups": "server_groups",
    "maxServerGroupMembers": "server_group_members",
}
# Usage shown -> quota resource (None: nothing of it exists here).
_USED = {
    "totalCoresUsed": "cores",
    "totalInstancesUsed": "instances",
    "totalRAMUsed": "ram",
    "totalSecurityGroupsUsed": None,
    "totalFloatingIpsUsed": None,
    "totalServerGroupsUsed": None,
}


class LimitsController:
    #: The query schema of each action (also read by the OpenAPI description).
    query_schemas = {"index": schema.index_query}

    def index(self, request):
        """Show the absolute limits of the caller's project and what it uses."""
        context = request.context
        policy.authorize(context, "os_compute_api:limits")
        query = wsgi.validate_query(request, schema.index_query)
        project_id = query.get("tenant_id") or context.project_id
        if project_id != context.project_id:
            policy.authorize(
                context, "os_compute_api:limits:other_project", {"project_id": project_id}
            )
        limits = quota.get_limits(context, project_id)
        usage = quota.get_usage(context, project_id)
        absolute = {name: limits[resource] for name, resource in _MAXIMA.items()}
        absolute.update(
            (name, usage[resource] if resource else 0) for name, resource in _USED.items()
        )
        return 200, {"limits": {"absolute": absolute, "rate": []}}
