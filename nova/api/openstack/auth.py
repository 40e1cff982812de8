"""Who is calling: ``noauth2`` tokens or Keystone's headers, into a ``RequestContext``."""

from __future__ import annotations

from nova import context as nova_context
from nova import exception
from nova.api.openstack import policy
from servicekit import validation

#: Longest user or project id: the ``user_id``/``project_id`` columns they are stored in.
ID_MAX_LENGTH = 255

#: The roles of a noauth2 identity, as Nova's noauth2 test identities have them
#: (Keystone's bootstrap makes ``admin`` imply ``member`` imply ``reader``).
NOAUTH2_ROLES = ["reader", "member"]
NOAUTH2_ADMIN_ROLES = ["reader", "member", "admin"]


def context_from_noauth2(headers, request_id: str) -> nova_context.RequestContext:
    """Read ``X-Auth-Token: user:project`` (a token without ':' is both).

    The user ``admin`` has the roles admin, member and reader; any other
    member and reader of the project. ``is_admin`` is what the policy's
    ``context_is_admin`` rule says of those roles.

    :raises nova.exception.NotAuthenticated: no token, no user, or an id that
        does not fit the database (too long, a control character).
    """
    token = headers.get("X-Auth-Token", "").strip()
    if not token:
        raise exception.NotAuthenticated()
    user, _, project = token.partition(":")
    project = project or user
    if not (validation.fits(user, ID_MAX_LENGTH) and validation.fits(project, ID_MAX_LENGTH)):
        raise exception.NotAuthenticated(
            f"A noauth2 token is 'user:project', each 1 to {ID_MAX_LENGTH} characters "
            "without control characters."
        )
    roles = NOAUTH2_ADMIN_ROLES if user == "admin" else NOAUTH2_ROLES
    context = nova_context.RequestContext(
        user_id=user, project_id=project, roles=list(roles), request_id=request_id
    )
    context.is_admin = policy.check_is_admin(context)
    return context


def context_from_keystone(headers, request_id: str) -> nova_context.RequestContext:
    """Read the headers keystonemiddleware sets once it validated the token.

    :raises nova.exception.NotAuthenticated: the token was not confirmed.
    """
    if headers.get("X-Identity-Status") != "Confirmed":
        raise exception.NotAuthenticated()
    roles = {role.strip().lower() for role in headers.get("X-Roles", "").split(",")}
    context = nova_context.RequestContext(
        user_id=headers.get("X-User-Id"),
        project_id=headers.get("X-Project-Id") or headers.get("X-Tenant-Id"),
        roles=sorted(roles - {""}),
        request_id=request_id,
    )
    context.is_admin = policy.check_is_admin(context)
    return context


STRATEGIES = {"noauth2": context_from_noauth2, "keystone": context_from_keystone}
