"""Who is calling: ``noauth2`` tokens or Keystone's headers, into a ``RequestContext``."""

from __future__ import annotations

import json

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


#: The catalog entries a context keeps (and carries over RPC): the services Nova calls.
CATALOG_TYPES = frozenset({"network", "image"})


def context_from_keystone(headers, request_id: str) -> nova_context.RequestContext:
    """Read the headers keystonemiddleware sets once it validated the token.

    oslo.context's ``from_environ`` reads them (user, project, domains,
    ``X-Auth-Token``, ``X-Roles``, the service token's); the roles are kept
    lower-cased, ``is_admin`` is the ``admin`` role, and the entries of
    ``X-Service-Catalog`` for the services Nova calls are kept as Nova
    keeps them.

    :raises nova.exception.NotAuthenticated: the token was not confirmed.
    :raises nova.exception.Invalid: ``X-Service-Catalog`` is not a JSON list.
    """
    if headers.get("X-Identity-Status") != "Confirmed":
        raise exception.NotAuthenticated()
    environ = getattr(headers, "environ", None)
    if environ is None:  # a plain mapping: the CGI names of its headers
        environ = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}
    try:
        catalog = json.loads(headers.get("X-Service-Catalog") or "[]")
        catalog = [entry for entry in catalog if entry.get("type") in CATALOG_TYPES]
    except (ValueError, TypeError, AttributeError) as exc:
        raise exception.Invalid(reason="Invalid service catalog json.") from exc
    context = nova_context.RequestContext.from_environ(
        environ, request_id=request_id, service_catalog=catalog
    )
    context.roles = [role.lower() for role in context.roles if role]
    context.is_admin = policy.check_is_admin(context)
    return context


STRATEGIES = {"noauth2": context_from_noauth2, "keystone": context_from_keystone}
