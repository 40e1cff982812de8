"""Hypervisors: Nova's ``os_compute_api:os-hypervisors:*`` rules."""

from __future__ import annotations

from nova.policies import base

BASE_POLICY_NAME = "os_compute_api:os-hypervisors:%s"

rules = [
    base.api_rule(
        BASE_POLICY_NAME % "list",
        base.ADMIN,
        "List all hypervisors",
        ("GET", "/os-hypervisors"),
    ),
    base.api_rule(
        BASE_POLICY_NAME % "list-detail",
        base.ADMIN,
        "List all hypervisors with details",
        ("GET", "/os-hypervisors/detail"),
    ),
    base.api_rule(
        BASE_POLICY_NAME % "statistics",
        base.ADMIN,
        "Show summary statistics for all hypervisors over all compute nodes",
        ("GET", "/os-hypervisors/statistics"),
    ),
    base.api_rule(
        BASE_POLICY_NAME % "uptime",
        base.ADMIN,
        "Show the uptime of a hypervisor",
        ("GET", "/os-hypervisors/{hypervisor_id}/uptime"),
    ),
    base.api_rule(
        BASE_POLICY_NAME % "show",
        base.ADMIN,
        "Show details for a hypervisor",
        ("GET", "/os-hypervisors/{hypervisor_id}"),
    ),
]


def list_rules():
    return rules
