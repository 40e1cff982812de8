"""Compute services: Nova's ``os_compute_api:os-services:*`` rules."""

from __future__ import annotations

from nova.policies import base

BASE_POLICY_NAME = "os_compute_api:os-services:%s"

rules = [
    base.api_rule(
        BASE_POLICY_NAME % "list",
        base.ADMIN,
        "List all running Compute services in a region",
        ("GET", "/os-services"),
    ),
    base.api_rule(
        BASE_POLICY_NAME % "update",
        base.ADMIN,
        "Update a Compute service",
        ("PUT", "/os-services/{service_id}"),
    ),
    base.api_rule(
        BASE_POLICY_NAME % "delete",
        base.ADMIN,
        "Delete a Compute service",
        ("DELETE", "/os-services/{service_id}"),
    ),
]


def list_rules():
    return rules
