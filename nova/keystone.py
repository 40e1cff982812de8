"""How Nova authenticates to the services it calls: keystoneauth1 from a conf group.

A group such as ``[quantum]`` or ``[neutron]`` (and ``[glance]``) gets
keystoneauth1's session options (``cafile``, ``insecure`` ...; the group's own
``timeout`` stays) and auth options (``auth_type``, ``auth_url``,
``username``, ``password``, ``project_name`` ... of the service user) with
``register_opts``. ``ServiceAuth`` then says which token a call carries, as
Nova's clients do (nova/network/neutron.py ``get_client``):

* the token of the user the call is made for (``context.auth_token``,
  which travels with the context over RPC, so a compute host uses it too),
  with ``auth_type`` set or when the API authenticates with Keystone;
* with ``auth_type`` set, for Nova's own work (no user token) and when the
  service refused the user's token (expired or revoked: 401), the service
  user's token, from a keystoneauth ``Session`` that renews it;
* otherwise a static token (the group's ``auth_token``), as before Keystone.
"""

from __future__ import annotations

import logging

from keystoneauth1 import exceptions as ks_exceptions
from keystoneauth1 import loading as ks_loading
from oslo_config import cfg

from nova import context as nova_context
from nova import exception

LOG = logging.getLogger(__name__)

#: keystoneauth1's session options a group takes (its own ``timeout`` is kept).
_SKIPPED_SESSION_OPTS = frozenset({"timeout"})


def session_opts() -> list[cfg.Opt]:
    """Return keystoneauth1's session options, less those a group defines itself."""
    return [
        opt
        for opt in ks_loading.get_session_conf_options()
        if opt.dest not in _SKIPPED_SESSION_OPTS
    ]


def register_opts(conf: cfg.ConfigOpts, group: str) -> None:
    """Register keystoneauth1's session and auth options in ``group``."""
    conf.register_opts(session_opts(), group=group)
    ks_loading.register_auth_conf_options(conf, group)


def list_opts() -> list[cfg.Opt]:
    """Return the options ``register_opts`` adds, with the password plugin's (for the sample)."""
    opts: dict[str, cfg.Opt] = {}
    for opt in (
        session_opts()
        + ks_loading.get_auth_common_conf_options()
        + ks_loading.get_auth_plugin_conf_options("password")
    ):
        opts.setdefault(opt.dest, opt)
    return list(opts.values())


class ServiceAuth:
    """The token of each call to one service, from the options of conf group ``group``."""

    def __init__(
        self,
        conf: cfg.ConfigOpts,
        group: str,
        static_token: str | None = None,
        user_tokens: bool = False,
    ) -> None:
        """:param static_token: the token of every call without a service user.
        :param user_tokens: forward users' tokens even without a service user
            (the API authenticates with Keystone).
        """
        self.group = group
        self.static_token = static_token
        self.session = None
        self.auth = None
        if conf[group].auth_type:
            self.auth = ks_loading.load_auth_from_conf_options(conf, group)
            self.session = ks_loading.load_session_from_conf_options(conf, group, auth=self.auth)
        self.user_tokens = user_tokens or self.auth is not None

    @property
    def per_call(self) -> bool:
        """Can the token differ from call to call (else it is always the static one)?"""
        return self.user_tokens

    @property
    def uses_keystone(self) -> bool:
        """Is there a service user (``auth_type`` set)?"""
        return self.auth is not None

    @property
    def verify(self) -> bool | str:
        """Return the TLS verification the session options ask for (``requests``' verify)."""
        if self.session is None or self.session.verify is None:
            return True
        return self.session.verify

    def headers(self, context: nova_context.RequestContext | None) -> dict[str, str]:
        """Return the auth headers of a call made for ``context`` (None: Nova's own)."""
        if self.user_tokens and context is not None and context.auth_token:
            return {"X-Auth-Token": context.auth_token}
        return self.service_headers()

    def service_headers(self) -> dict[str, str]:
        """Return the service user's auth headers (a token keystoneauth renews), or the static one.

        :raises nova.exception.ServiceAuthFailed: Keystone refused or cannot be reached.
        """
        if self.auth is None or self.session is None:
            return {"X-Auth-Token": self.static_token} if self.static_token else {}
        try:
            headers = self.session.get_auth_headers(self.auth)
        except ks_exceptions.ClientException as exc:
            raise exception.ServiceAuthFailed(group=self.group, reason=str(exc)) from exc
        if not headers:
            raise exception.ServiceAuthFailed(group=self.group, reason="no token")
        return dict(headers)
