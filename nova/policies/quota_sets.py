"""Quotas: Nova's ``os_compute_api:os-quota-sets:*`` and ``os_compute_api:limits`` rules."""

from __future__ import annotations

from nova.policies import base

POLICY_ROOT = "os_compute_api:os-quota-sets:%s"
LIMITS = "os_compute_api:limits"
LIMITS_OTHER_PROJECT = "os_compute_api:limits:other_project"

rules = [
    base.api_rule(
        POLICY_ROOT % "update",
        base.ADMIN,
        "Update the quotas",
        ("PUT", "/os-quota-sets/{tenant_id}"),
    ),
    base.api_rule(
        POLICY_ROOT % "defaults",
        base.RULE_ANY,
        "List default quotas",
        ("GET", "/os-quota-sets/{tenant_id}/defaults"),
    ),
    base.api_rule(
        POLICY_ROOT % "show",
        base.PROJECT_READER_OR_ADMIN,
        "Show a quota (the target is the project in the path)",
        ("GET", "/os-quota-sets/{tenant_id}"),
    ),
    base.api_rule(
        POLICY_ROOT % "delete",
        base.ADMIN,
        "Revert quotas to defaults",
        ("DELETE", "/os-quota-sets/{tenant_id}"),
    ),
    base.api_rule(
        POLICY_ROOT % "detail",
        base.PROJECT_READER_OR_ADMIN,
        "Show the detail of quota (the target is the project in the path)",
        ("GET", "/os-quota-sets/{tenant_id}/detail"),
    ),
    base.api_rule(
        LIMITS,
        base.RULE_ANY,
        "Show rate and absolute limits for the current user project",
        ("GET", "/limits"),
    ),
    base.api_rule(
        LIMITS_OTHER_PROJECT,
        base.ADMIN,
        "Show rate and absolute limits of a project other than the caller's "
        "(tenant_id query), once os_compute_api:limits passes",
        ("GET", "/limits"),
    ),
]


def list_rules():
    return rules
