"""Who may do what in Quantum: oslo.policy with Neutron-style default rules.

A ``reader`` of a tenant may read its networks and ports, a ``member`` may
also write them (create, update, delete, plug and unplug attachments), an
admin (``context_is_admin``, the ``admin`` role) anything on any tenant. The
target is the tenant of the URL. ``[oslo_policy] policy_file`` of Quantum's
configuration overrides any rule; ``etc/quantum-policy.yaml.sample`` lists them.
"""

from __future__ import annotations

from typing import Any

from oslo_config import cfg
from oslo_policy import policy

from servicekit import policy as servicekit_policy

ADMIN = "rule:context_is_admin"
PROJECT_READER_OR_ADMIN = "rule:project_reader or rule:context_is_admin"
PROJECT_MEMBER_OR_ADMIN = "rule:project_member or rule:context_is_admin"

_BASE = [
    policy.RuleDefault("context_is_admin", "role:admin", "Rule for cloud admin access."),
    policy.RuleDefault(
        "project_member",
        "role:member and project_id:%(project_id)s",
        "Default rule for the members of the tenant the call names.",
    ),
    policy.RuleDefault(
        "project_reader",
        "role:reader and project_id:%(project_id)s",
        "Default rule for the readers of the tenant the call names.",
    ),
]

_NETS = "/v1.1/tenants/{tenant_id}/networks"
_PORTS = _NETS + "/{network_id}/ports"


def _rule(name: str, check_str: str, description: str, *operations: tuple[str, str]):
    return policy.DocumentedRuleDefault(
        name=name,
        check_str=check_str,
        description=description,
        operations=[{"method": method, "path": path} for method, path in operations],
        scope_types=["project"],
    )


_API = [
    _rule(
        "get_network",
        PROJECT_READER_OR_ADMIN,
        "List a tenant's networks, show one",
        ("GET", _NETS),
        ("GET", _NETS + "/detail"),
        ("GET", _NETS + "/{network_id}"),
        ("GET", _NETS + "/{network_id}/detail"),
    ),
    _rule("create_network", PROJECT_MEMBER_OR_ADMIN, "Create a network", ("POST", _NETS)),
    _rule(
        "update_network",
        PROJECT_MEMBER_OR_ADMIN,
        "Update a network",
        ("PUT", _NETS + "/{network_id}"),
    ),
    _rule(
        "delete_network",
        PROJECT_MEMBER_OR_ADMIN,
        "Delete a network",
        ("DELETE", _NETS + "/{network_id}"),
    ),
    _rule(
        "get_port",
        PROJECT_READER_OR_ADMIN,
        "List a network's ports, show one, show its attachment; list and show "
        "the tenant's ports in the Neutron v2.0 view",
        ("GET", _PORTS),
        ("GET", _PORTS + "/detail"),
        ("GET", _PORTS + "/{port_id}"),
        ("GET", _PORTS + "/{port_id}/detail"),
        ("GET", _PORTS + "/{port_id}/attachment"),
        ("GET", _PORTS + "/{port_id}/configuration"),
        ("GET", "/v2.0/ports"),
        ("GET", "/v2.0/ports/{port_id}"),
    ),
    _rule("create_port", PROJECT_MEMBER_OR_ADMIN, "Create a port", ("POST", _PORTS)),
    _rule(
        "update_port",
        PROJECT_MEMBER_OR_ADMIN,
        "Update a port, plug or unplug its attachment",
        ("PUT", _PORTS + "/{port_id}"),
        ("PUT", _PORTS + "/{port_id}/attachment"),
        ("DELETE", _PORTS + "/{port_id}/attachment"),
    ),
    _rule(
        "delete_port", PROJECT_MEMBER_OR_ADMIN, "Delete a port", ("DELETE", _PORTS + "/{port_id}")
    ),
    _rule(
        "get_attachment",
        ADMIN,
        "Find the port (of any tenant) an interface-id is attached to: the agents' lookup",
        ("GET", "/v1.1/attachments"),
        ("GET", "/v1.1/attachments/{attachment_id}"),
    ),
]

#: The rule of each action of each resource's controller (``controller.resource``).
ACTIONS = {
    "network": {
        "index": "get_network",
        "detail": "get_network",
        "show": "get_network",
        "show_detail": "get_network",
        "create": "create_network",
        "update": "update_network",
        "delete": "delete_network",
    },
    "port": {
        "index": "get_port",
        "detail": "get_port",
        "show": "get_port",
        "show_detail": "get_port",
        "get_attachment": "get_port",
        "show_configuration": "get_port",
        "create": "create_port",
        "update": "update_port",
        "attach": "update_port",
        "detach": "update_port",
        "delete": "delete_port",
    },
    "attachment": {"index": "get_attachment", "show": "get_attachment"},
}


def list_rules() -> list[policy.RuleDefault]:
    """Every default rule: the ``oslo.policy.policies`` entry point."""
    return [*_BASE, *_API]


class Enforcer(servicekit_policy.Enforcer):
    """Quantum's defaults on Quantum's ``ConfigOpts`` (``[oslo_policy]``)."""

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        super().__init__(conf, list_rules())

    def allows_on(self, rule: str, tenant_id: str, credentials: dict[str, Any]) -> bool:
        """Tell whether ``rule`` allows ``credentials`` (user, project, roles) on ``tenant_id``."""
        return self.allows(rule, {"project_id": tenant_id}, credentials)


def get_enforcer() -> Enforcer:
    """The ``oslo.policy.enforcer`` entry point (``oslopolicy-policy-generator``)."""
    from quantum import conf as quantum_conf

    conf = quantum_conf.new_conf()
    conf([], project="quantum")
    return Enforcer(conf)
