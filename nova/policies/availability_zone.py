"""Availability zones: Nova's ``os_compute_api:os-availability-zone:*`` rules."""

from __future__ import annotations

from nova.policies import base

POLICY_ROOT = "os_compute_api:os-availability-zone:%s"

rules = [
    base.api_rule(
        POLICY_ROOT % "list",
        base.RULE_ANY,
        "List availability zone information without host information",
        ("GET", "/os-availability-zone"),
    ),
    base.api_rule(
        POLICY_ROOT % "detail",
        base.ADMIN,
        "List detailed availability zone information with host information",
        ("GET", "/os-availability-zone/detail"),
    ),
]


def list_rules():
    return rules
