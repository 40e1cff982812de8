"""Key pairs: Nova's ``os_compute_api:os-keypairs:*`` rules, per user.

The target's ``user_id`` is the user whose key pairs are asked for (the
``user_id`` query of an admin, else the caller).
"""

from __future__ import annotations

from nova.policies import base

POLICY_ROOT = "os_compute_api:os-keypairs:%s"
_ADMIN_OR_USER = "(" + base.ADMIN + ") or user_id:%(user_id)s"

rules = [
    base.api_rule(
        POLICY_ROOT % "index", _ADMIN_OR_USER, "List all keypairs", ("GET", "/os-keypairs")
    ),
    base.api_rule(
        POLICY_ROOT % "create", _ADMIN_OR_USER, "Create a keypair", ("POST", "/os-keypairs")
    ),
    base.api_rule(
        POLICY_ROOT % "delete",
        _ADMIN_OR_USER,
        "Delete a keypair",
        ("DELETE", "/os-keypairs/{keypair_name}"),
    ),
    base.api_rule(
        POLICY_ROOT % "show",
        _ADMIN_OR_USER,
        "Show details of a keypair",
        ("GET", "/os-keypairs/{keypair_name}"),
    ),
]


def list_rules():
    return rules
