"""keystonemiddleware's token check, run by a service's router rather than around it.

A service with ``auth_strategy = keystone`` asks ``TokenCheck.check`` before
it serves a request that needs an identity; public paths (the version
documents) are never checked. keystonemiddleware's ``AuthProtocol`` is
built with the service's own ``ConfigOpts`` (``oslo_config_config``), so the
``[keystone_authtoken]`` section of the service's ``--config-file`` is the one
read. What the middleware answers itself (401 for a missing, invalid or
revoked token, 503 when Keystone cannot be reached) comes back as a
``Rejection`` the service turns into its own fault body; the headers it sets
for a valid token (``X-Identity-Status: Confirmed``, ``X-User-Id``,
``X-Project-Id``, ``X-Roles``, ``X-Service-Catalog`` ...) are in the environ.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from typing import NamedTuple

from oslo_config import cfg

LOG = logging.getLogger(__name__)

#: The environ key the inner application sets: the middleware let the request through.
_PASSED = "servicekit.keystone.passed"


class Rejection(NamedTuple):
    """An answer of the middleware: the request goes no further."""

    status: int
    message: str
    #: ``WWW-Authenticate`` (with a 401): where to get a token.
    headers: list[tuple[str, str]]


class CheckFailed(Exception):
    """The middleware failed (misconfigured: no auth plugin, bad options); logged."""


def _passed(environ, start_response):
    environ[_PASSED] = True
    start_response("204 No Content", [])
    return []


class TokenCheck:
    """Validates the ``X-Auth-Token`` of requests with keystonemiddleware."""

    def __init__(self, conf: cfg.ConfigOpts, project: str) -> None:
        """:param conf: the service's parsed configuration, holding ``[keystone_authtoken]``."""
        from keystonemiddleware import auth_token

        self.middleware = auth_token.AuthProtocol(
            _passed, {"oslo_config_config": conf, "oslo_config_project": project}
        )

    def check(self, environ: dict[str, Any]) -> Rejection | None:
        """Validate the request's token; None when it is valid (identity headers set).

        :raises CheckFailed: the middleware itself failed (the cause is logged).
        """
        environ.pop(_PASSED, None)
        answer: list[tuple[str, list[tuple[str, str]]]] = []

        def start_response(status, headers, exc_info=None):
            answer.append((status, headers))
            return lambda _data: None

        try:
            chunks = self.middleware(environ, start_response)
            body = b"".join(chunks)
        except Exception as exc:
            LOG.exception("keystonemiddleware failed")
            raise CheckFailed(f"{type(exc).__name__}: {exc}") from exc
        if environ.get(_PASSED):
            return None
        status, headers = answer[0]
        code = int(status[:3])
        try:
            message = json.loads(body)["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = status[4:]
        if code >= 500:
            # The middleware logged why (Keystone unreachable: CRITICAL).
            message = "The identity service cannot check tokens now; try again later."
        return Rejection(
            code,
            str(message),
            [(k, v) for k, v in headers if k.lower() == "www-authenticate"],
        )
