"""Servers: Nova's ``os_compute_api:servers:*`` rules (nova/policies/servers.py)."""

from __future__ import annotations

from nova.policies import base

SERVERS = "os_compute_api:servers:%s"

rules = [
    base.api_rule(
        SERVERS % "index",
        base.PROJECT_READER_OR_ADMIN,
        "List all servers",
        ("GET", "/servers"),
    ),
    base.api_rule(
        SERVERS % "detail",
        base.PROJECT_READER_OR_ADMIN,
        "List all servers with detailed information",
        ("GET", "/servers/detail"),
    ),
    base.api_rule(
        SERVERS % "index:get_all_tenants",
        base.ADMIN,
        "List all servers for all projects",
        ("GET", "/servers"),
    ),
    base.api_rule(
        SERVERS % "detail:get_all_tenants",
        base.ADMIN,
        "List all servers with detailed information for all projects",
        ("GET", "/servers/detail"),
    ),
    base.api_rule(
        SERVERS % "allow_all_filters",
        base.ADMIN,
        "Allow all filters when listing servers (the others' filters are dropped)",
        ("GET", "/servers"),
        ("GET", "/servers/detail"),
    ),
    base.api_rule(
        SERVERS % "show",
        base.PROJECT_READER_OR_ADMIN,
        "Show a server",
        ("GET", "/servers/{server_id}"),
    ),
    base.api_rule(
        SERVERS % "show:host_status",
        base.ADMIN,
        "Show a server with the additional host status information: the "
        "host_status key in the server details",
        ("GET", "/servers/{server_id}"),
        ("GET", "/servers/detail"),
    ),
    base.api_rule(
        SERVERS % "create",
        base.PROJECT_MEMBER_OR_ADMIN,
        "Create a server",
        ("POST", "/servers"),
    ),
    base.api_rule(
        SERVERS % "delete",
        base.PROJECT_MEMBER_OR_ADMIN,
        "Delete a server",
        ("DELETE", "/servers/{server_id}"),
    ),
    base.api_rule(
        SERVERS % "update",
        base.PROJECT_MEMBER_OR_ADMIN,
        "Update a server",
        ("PUT", "/servers/{server_id}"),
    ),
]


def list_rules():
    return rules
