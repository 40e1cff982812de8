"""Admin server actions: Nova's ``os_compute_api:os-admin-actions:*`` rules."""

from __future__ import annotations

from nova.policies import base

POLICY_ROOT = "os_compute_api:os-admin-actions:%s"

rules = [
    base.api_rule(
        POLICY_ROOT % "reset_state",
        base.ADMIN,
        "Reset the state of a given server",
        ("POST", "/servers/{server_id}/action (os-resetState)"),
    ),
]


def list_rules():
    return rules
