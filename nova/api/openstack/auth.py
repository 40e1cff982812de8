"""Who is calling: ``noauth2`` tokens or Keystone's headers, into a ``RequestContext``."""

from __future__ import annotations

from nova import context as nova_context
from nova import exception


def context_from_noauth2(headers, request_id: str) -> nova_context.RequestContext:
    """Read ``X-Auth-Token: user:project`` (a token without ':' is both).

    :raises nova.exception.NotAuthenticated: no token.
    """
    token = headers.get("X-Auth-Token", "").strip()
    if not token:
        raise exception.NotAuthenticated()
    user, _, project = token.partition(":")
    if not user:
        raise exception.NotAuthenticated()
    return nova_context.RequestContext(
        user_id=user, project_id=project or user, is_admin=user == "admin", request_id=request_id
    )


def context_from_keystone(headers, request_id: str) -> nova_context.RequestContext:
    """Read the headers keystonemiddleware sets once it validated the token.

    :raises nova.exception.NotAuthenticated: the token was not confirmed.
    """
    if headers.get("X-Identity-Status") != "Confirmed":
        raise exception.NotAuthenticated()
    roles = {role.strip().lower() for role in headers.get("X-Roles", "").split(",")}
    return nova_context.RequestContext(
        user_id=headers.get("X-User-Id"),
        project_id=headers.get("X-Project-Id") or headers.get("X-Tenant-Id"),
        is_admin="admin" in roles,
        request_id=request_id,
    )


STRATEGIES = {"noauth2": context_from_noauth2, "keystone": context_from_keystone}
