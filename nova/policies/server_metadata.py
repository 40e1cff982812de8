"""Server metadata: Nova's ``os_compute_api:server-metadata:*`` rules."""

from __future__ import annotations

from nova.policies import base

POLICY_ROOT = "os_compute_api:server-metadata:%s"

rules = [
    base.api_rule(
        POLICY_ROOT % "index",
        base.PROJECT_READER_OR_ADMIN,
        "List all metadata of a server",
        ("GET", "/servers/{server_id}/metadata"),
    ),
    base.api_rule(
        POLICY_ROOT % "show",
        base.PROJECT_READER_OR_ADMIN,
        "Show metadata for a server",
        ("GET", "/servers/{server_id}/metadata/{key}"),
    ),
    base.api_rule(
        POLICY_ROOT % "create",
        base.PROJECT_MEMBER_OR_ADMIN,
        "Create metadata for a server",
        ("POST", "/servers/{server_id}/metadata"),
    ),
    base.api_rule(
        POLICY_ROOT % "update_all",
        base.PROJECT_MEMBER_OR_ADMIN,
        "Replace metadata for a server",
        ("PUT", "/servers/{server_id}/metadata"),
    ),
    base.api_rule(
        POLICY_ROOT % "update",
        base.PROJECT_MEMBER_OR_ADMIN,
        "Update metadata from a server",
        ("PUT", "/servers/{server_id}/metadata/{key}"),
    ),
    base.api_rule(
        POLICY_ROOT % "delete",
        base.PROJECT_MEMBER_OR_ADMIN,
        "Delete metadata from a server",
        ("DELETE", "/servers/{server_id}/metadata/{key}"),
    ),
]


def list_rules():
    return rules
