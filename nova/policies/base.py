"""Nova's base rules: who is an admin, a project's reader, member or manager.

The names and check strings are Nova's (nova/policies/base.py), so a rule of
an operator's Nova policy file means the same here. Every API rule is
written in terms of these aliases.
"""

from __future__ import annotations

from oslo_policy import policy

#: The caller has the admin role (``context_is_admin``).
ADMIN = "rule:context_is_admin"
#: Admin, or the manager role on the target's project.
PROJECT_MANAGER_OR_ADMIN = "rule:project_manager_or_admin"
#: Admin, or the member role on the target's project: writes.
PROJECT_MEMBER_OR_ADMIN = "rule:project_member_or_admin"
#: Admin, or the reader role on the target's project: reads.
PROJECT_READER_OR_ADMIN = "rule:project_reader_or_admin"
#: Anyone authenticated.
RULE_ANY = "@"
#: Nobody.
RULE_NOBODY = "!"

# Keystone's bootstrap makes ``admin`` imply ``member`` imply ``reader``: a
# token of a member also carries ``reader``, so reads need only ``reader``.
rules = [
    policy.RuleDefault(
        "context_is_admin",
        "role:admin",
        "Decides what is required for the 'is_admin:True' check to succeed.",
    ),
    policy.RuleDefault("admin_api", "is_admin:True", "Default rule for most Admin APIs."),
    policy.RuleDefault(
        "project_manager_api",
        "role:manager and project_id:%(project_id)s",
        "Default rule for Project level management APIs.",
    ),
    policy.RuleDefault(
        "project_member_api",
        "role:member and project_id:%(project_id)s",
        "Default rule for Project level non admin APIs.",
    ),
    policy.RuleDefault(
        "project_reader_api",
        "role:reader and project_id:%(project_id)s",
        "Default rule for Project level read only APIs.",
    ),
    policy.RuleDefault("service_api", "role:service", "Default rule for service-to-service APIs."),
    policy.RuleDefault(
        "project_manager_or_admin",
        "rule:project_manager_api or rule:context_is_admin",
        "Default rule for Project Manager or admin APIs.",
    ),
    policy.RuleDefault(
        "project_member_or_admin",
        "rule:project_member_api or rule:context_is_admin",
        "Default rule for Project Member or admin APIs.",
    ),
    policy.RuleDefault(
        "project_reader_or_admin",
        "rule:project_reader_api or rule:context_is_admin",
        "Default rule for Project reader or admin APIs.",
    ),
    policy.RuleDefault(
        "service_or_admin",
        "rule:service_api or rule:context_is_admin",
        "Default rule for service or admin APIs.",
    ),
]


def api_rule(
    name: str, check_str: str, description: str, *operations: tuple[str, str]
) -> policy.DocumentedRuleDefault:
    """Return the documented default of one API rule, for project-scoped tokens.

    :param operations: ``(method, path)`` of each API call the rule guards.
    """
    return policy.DocumentedRuleDefault(
        name=name,
        check_str=check_str,
        description=description,
        operations=[{"method": method, "path": path} for method, path in operations],
        scope_types=["project"],
    )


def list_rules() -> list[policy.RuleDefault]:
    return rules
