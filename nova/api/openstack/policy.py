"""Who may do what: an oslo.policy enforcer with Nova's default rules.

The rules and their defaults are Nova's (``nova.policies``): reads need the
``reader`` role on the target's project, writes ``member``, admin APIs the
``admin`` role (``context_is_admin``); key pairs belong to their user. An
operator's policy file (``[oslo_policy] policy_file``, YAML, Nova's rule
names) overrides any of them; ``etc/nova-policy.yaml.sample`` lists them all.

A target is the dictionary the rule's ``%(...)s`` substitutions read:
``{"project_id": ..., "user_id": ...}`` of the resource, the caller's own by
default. Every query is scoped to the caller's project as well (the second
line: another project's resources stay 404).
"""

from __future__ import annotations

import threading
from typing import Any

from oslo_config import cfg
from oslo_policy import policy as oslo_policy

import nova.conf
from nova import context as nova_context
from nova import exception
from nova import policies
from servicekit import policy as servicekit_policy

CONF = nova.conf.CONF

_ENFORCER: servicekit_policy.Enforcer | None = None
_LOCK = threading.Lock()


@oslo_policy.register("is_admin")
class IsAdminCheck(oslo_policy.Check):
    """``is_admin:True``: the context's admin flag (``admin_api`` reads it)."""

    def __init__(self, kind: str, match: str) -> None:
        self.expected = match.lower() == "true"
        super().__init__(kind, str(self.expected))

    def __call__(self, target, creds, enforcer, current_rule=None) -> bool:
        return creds.get("is_admin") == self.expected


def enforcer() -> servicekit_policy.Enforcer:
    """Return the enforcer, made on first use from ``[oslo_policy]`` of ``CONF``."""
    global _ENFORCER
    if _ENFORCER is None:
        with _LOCK:
            if _ENFORCER is None:
                enforcer = servicekit_policy.Enforcer(CONF, policies.list_rules())
                # Nova's defaults are the new ones: no warning per changed default.
                enforcer.suppress_default_change_warnings = True
                _ENFORCER = enforcer
    return _ENFORCER


def get_enforcer() -> oslo_policy.Enforcer:
    """The ``oslo.policy.enforcer`` entry point (``oslopolicy-policy-generator``,
    ``oslopolicy-checker``): Nova's configuration files in their usual places."""
    try:
        CONF.find_file(CONF.oslo_policy.policy_file)
    except cfg.NotInitializedError:
        CONF([], project="nova")
    return enforcer()


def reset() -> None:
    """Forget the enforcer: the next check reads ``[oslo_policy]`` and the file again."""
    global _ENFORCER
    with _LOCK:
        if _ENFORCER is not None:
            _ENFORCER.clear()
        _ENFORCER = None


def default_target(context: nova_context.RequestContext) -> dict[str, Any]:
    """The caller's own project and user: the target of a call on their own things."""
    return {"project_id": context.project_id, "user_id": context.user_id}


def check(
    context: nova_context.RequestContext, action: str, target: dict[str, Any] | None = None
) -> bool:
    """Tell whether the rule ``action`` allows ``context`` on ``target``.

    A rule of another scope than the token's (a system-scoped token on a
    project rule) does not allow. Decisions are remembered, and the policy
    file looked at again, for a second (``servicekit.policy``).

    :raises oslo_policy.policy.PolicyNotRegistered: ``action`` is no rule (a bug).
    """
    if target is None:
        target = default_target(context)
    return enforcer().allows(action, target, context)


def authorize(
    context: nova_context.RequestContext, action: str, target: dict[str, Any] | None = None
) -> None:
    """Refuse ``action`` to ``context`` unless the rule allows it on ``target``.

    :raises nova.exception.PolicyNotAuthorized: it does not (403, "Policy
        doesn't allow ACTION to be performed.").
    """
    if not check(context, action, target):
        raise exception.PolicyNotAuthorized(action=action)


def check_is_admin(context: nova_context.RequestContext) -> bool:
    """Tell whether ``context_is_admin`` holds: what ``context.is_admin`` is set from."""
    return check(context, "context_is_admin")
