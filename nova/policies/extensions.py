"""API extensions: Nova's ``os_compute_api:extensions`` rule, and the rules of
the extensions this tree ships (api_extensions/)."""

from __future__ import annotations

from nova.policies import base

BASE_POLICY_NAME = "os_compute_api:extensions"
#: Nova's rule of the os-virtual-interfaces API (removed from Nova with the API).
VIRTUAL_INTERFACES = "os_compute_api:os-virtual-interfaces"
#: The launch action of the os-server-launch extension (this tree's own).
SERVER_LAUNCH = "os_compute_api:os-server-launch:launch"

rules = [
    base.api_rule(
        BASE_POLICY_NAME,
        base.RULE_ANY,
        "List available extensions and show information for an extension",
        ("GET", "/extensions"),
        ("GET", "/extensions/{alias}"),
    ),
    base.api_rule(
        VIRTUAL_INTERFACES,
        base.PROJECT_READER_OR_ADMIN,
        "List virtual interfaces of a server, show one",
        ("GET", "/servers/{server_id}/os-virtual-interfaces"),
        ("GET", "/servers/{server_id}/os-virtual-interfaces/{id}"),
    ),
    base.api_rule(
        SERVER_LAUNCH,
        base.PROJECT_MEMBER_OR_ADMIN,
        "Launch a server defined without launching it",
        ("POST", "/servers/{server_id}/action (launch)"),
    ),
]


def list_rules():
    return rules
