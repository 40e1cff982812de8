"""A server's console: Nova's ``os_compute_api:os-console-output`` rule."""

from __future__ import annotations

from nova.policies import base

rules = [
    base.api_rule(
        "os_compute_api:os-console-output",
        base.PROJECT_MEMBER_OR_ADMIN,
        "Show console output for a server",
        ("POST", "/servers/{server_id}/action (os-getConsoleOutput)"),
    ),
]


def list_rules():
    return rules
