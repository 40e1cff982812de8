"""Port interfaces: Nova's ``os_compute_api:os-attach-interfaces:*`` rules."""

from __future__ import annotations

from nova.policies import base

POLICY_ROOT = "os_compute_api:os-attach-interfaces:%s"

rules = [
    base.api_rule(
        POLICY_ROOT % "list",
        base.PROJECT_READER_OR_ADMIN,
        "List port interfaces attached to a server",
        ("GET", "/servers/{server_id}/os-interface"),
    ),
    base.api_rule(
        POLICY_ROOT % "show",
        base.PROJECT_READER_OR_ADMIN,
        "Show details of a port interface attached to a server",
        ("GET", "/servers/{server_id}/os-interface/{port_id}"),
    ),
    base.api_rule(
        POLICY_ROOT % "create",
        base.PROJECT_MEMBER_OR_ADMIN,
        "Attach an interface to a server",
        ("POST", "/servers/{server_id}/os-interface"),
    ),
    base.api_rule(
        POLICY_ROOT % "delete",
        base.PROJECT_MEMBER_OR_ADMIN,
        "Detach an interface from a server",
        ("DELETE", "/servers/{server_id}/os-interface/{port_id}"),
    ),
]


def list_rules():
    return rules
