"""The WSGI application: routes, authentication, dispatch, access log."""

from __future__ import annotations

import dataclasses
import logging
import re
import time
from typing import Any

import webob
from oslo_config import cfg

from quantum import exceptions
from quantum import ipam
from quantum import plugins
from quantum.api import networks
from quantum.api import ports
from quantum.api import ports_v2
from quantum.api import wsgi
from quantum.db import api as db_api
from servicekit import db as servicekit_db
from servicekit import keystone
from servicekit import validation

LOG = logging.getLogger(__name__)
ACCESS_LOG = logging.getLogger("quantum.access")
#: ``REMOTE_ADDR`` of a call from the process the service runs in (embedded):
#: logged at DEBUG, as the caller logs what it did.
IN_PROCESS = "in-process"

TENANT = "/v1.1/tenants/{tenant_id}"
#: The read-only Neutron v2.0 view (quantum/api/ports_v2.py): no tenant in its URLs.
NEUTRON = "/v2.0"
#: Longest user or tenant id: the length of ``networks.tenant_id``.
ID_MAX_LENGTH = 255
#: Keystone roles that may act in any tenant: admins, and services (Nova) acting for users.
ANY_TENANT_ROLES = frozenset({"admin", "service"})


@dataclasses.dataclass(frozen=True)
class Context:
    """Who is asking; the tenant in the URL must be theirs unless they are an admin."""

    user_id: str
    tenant_id: str
    is_admin: bool = False


class QuantumApp:
    """The Quantum v1.1 API (and a read-only Neutron v2.0 view of ports) over one database."""

    def __init__(
        self,
        conf: cfg.ConfigOpts,
        db: db_api.QuantumDatabase,
        token_check: keystone.TokenCheck | None = None,
    ) -> None:
        """:param token_check: keystonemiddleware's check (another process's, embedded);
        None: ``conf``'s own with ``auth_strategy = keystone``.
        """
        self.conf = conf
        self.db = db
        #: Base URL of links (``public_endpoint``); empty: the request's scheme and host.
        self.endpoint = (conf.public_endpoint or "").rstrip("/")
        self._plugins: dict[str, plugins.QuantumPlugin] = {}
        #: keystonemiddleware, asked before any request that needs an identity.
        if token_check is None and conf.auth_strategy == "keystone":
            token_check = keystone.TokenCheck(conf, "quantum")
        self.token_check = token_check
        # The routes by the number of "/" in their paths (a parameter is one
        # segment), in the order connected: a path is matched against a few.
        self._routes: dict[int, list[tuple[re.Pattern[str], object, dict[str, str]]]] = {}
        self._connect("/", None, GET="versions")
        self._connect("/v1.1", None, GET="versions")
        self._connect(NEUTRON, None, GET="neutron_resources")
        network = networks.NetworkController(self)
        port = ports.PortController(self)
        nets = TENANT + "/networks"
        self._connect(nets, network, GET="index", POST="create")
        self._connect(nets + "/detail", network, GET="detail")
        self._connect(nets + "/{network_id}", network, GET="show", PUT="update", DELETE="delete")
        self._connect(nets + "/{network_id}/detail", network, GET="show_detail")
        net_ports = nets + "/{network_id}/ports"
        self._connect(net_ports, port, GET="index", POST="create")
        self._connect(net_ports + "/detail", port, GET="detail")
        self._connect(net_ports + "/{port_id}", port, GET="show", PUT="update", DELETE="delete")
        self._connect(net_ports + "/{port_id}/detail", port, GET="show_detail")
        self._connect(net_ports + "/{port_id}/configuration", port, GET="show_configuration")
        # An admin's lookup across tenants and networks (``?attachment=``), for agents.
        self._connect("/v1.1/ports/detail", port, GET="detail_all")
        self._connect(
            net_ports + "/{port_id}/attachment",
            port,
            GET="get_attachment",
            PUT="attach",
            DELETE="detach",
        )
        # Admin only (the agents): the port an interface-id is attached to.
        attachments = ports.AttachmentController(self)
        self._connect("/v1.1/attachments", attachments, GET="index")
        self._connect("/v1.1/attachments/{attachment_id}", attachments, GET="show")
        port_v2 = ports_v2.PortV2Controller(self)
        self._connect(NEUTRON + "/ports", port_v2, GET="index")
        self._connect(NEUTRON + "/ports/{port_id}", port_v2, GET="show")

    def _connect(self, path: str, controller, **actions: str) -> None:
        # "{name}" is one path segment, passed to the action by that name.
        pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(path)) + "$"
        routes = self._routes.setdefault(path.count("/"), [])
        routes.append((re.compile(pattern), controller, actions))

    def _match(self, path: str) -> tuple[object, dict[str, str], dict[str, Any]]:
        """Return the controller, actions and path parameters of the first route ``path`` fits.

        :raises quantum.exceptions.NotFound: none.
        """
        for pattern, controller, actions in self._routes.get(path.count("/"), ()):
            match = pattern.match(path)
            if match is not None:
                return controller, actions, match.groupdict()
        raise exceptions.NotFound()

    # --- pieces the controllers use ---------------------------------------------

    def plugin(self, name: str) -> plugins.QuantumPlugin:
        """Return plugin ``name``, loaded once.

        :raises quantum.exceptions.PluginNotFound: no such plugin.
        """
        if name not in self._plugins:
            self._plugins[name] = plugins.load(name, self.conf)
        return self._plugins[name]

    def port_configuration(self, network, port) -> dict[str, str]:
        """Return a port's configuration: plugin keys, then network's, then port's, then L3.

        The L3 keys (``quantum.ipam.l3_configuration``: the port's fixed IP
        and its subnet) are facts of the allocation: no admin key overrides them.
        """
        configuration = self.plugin(network.plugin).port_configuration(network.id, port.id)
        of_network, of_port = self.db.port_and_network_configuration(network.id, port.id)
        configuration.update(of_network)
        configuration.update(of_port)
        configuration.update(ipam.l3_configuration(network.subnet, port.fixed_ip))
        return configuration

    def port_configurations(self, network, ports) -> dict[str, dict[str, str]]:
        """Return ``port_configuration`` of each of a network's ``ports`` by id (one query)."""
        plugin = self.plugin(network.plugin)
        of_network, of_ports = self.db.network_and_port_configurations(network.id)
        found = {}
        for port in ports:
            configuration = plugin.port_configuration(network.id, port.id)
            configuration.update(of_network)
            configuration.update(of_ports.get(port.id, {}))
            configuration.update(ipam.l3_configuration(network.subnet, port.fixed_ip))
            found[port.id] = configuration
        return found

    def authenticate(self, request: webob.Request, tenant_id: str | None) -> Context:
        """Return the caller's context, entitled to ``tenant_id`` (None: the caller's own).

        :raises quantum.exceptions.NotAuthenticated: no valid identity.
        :raises quantum.exceptions.Forbidden: another tenant's URL.
        """
        environ = request.environ  # headers by their CGI names: no header object per request
        if self.token_check is not None:
            self._check_token(environ)
            if environ.get("HTTP_X_IDENTITY_STATUS") != "Confirmed":
                raise exceptions.NotAuthenticated()
            roles = {r.strip().lower() for r in environ.get("HTTP_X_ROLES", "").split(",")}
            context = Context(
                user_id=environ.get("HTTP_X_USER_ID", ""),
                tenant_id=environ.get("HTTP_X_PROJECT_ID") or environ.get("HTTP_X_TENANT_ID", ""),
                is_admin=not roles.isdisjoint(ANY_TENANT_ROLES),
            )
        else:
            token = environ.get("HTTP_X_AUTH_TOKEN", "").strip()
            if not token:
                raise exceptions.NotAuthenticated()
            user, _, tenant = token.partition(":")
            tenant = tenant or user
            # As Nova's noauth2: no user is no identity (":victim" is refused).
            if not (
                validation.fits(user, ID_MAX_LENGTH) and validation.fits(tenant, ID_MAX_LENGTH)
            ):
                raise exceptions.NotAuthenticated(
                    f"A token is 'user:tenant', each 1 to {ID_MAX_LENGTH} characters "
                    "without control characters."
                )
            context = Context(user_id=user, tenant_id=tenant, is_admin=user == "admin")
        if tenant_id is None:
            tenant_id = context.tenant_id
        elif context.tenant_id != tenant_id and not context.is_admin:
            raise exceptions.Forbidden(reason=f"tenant {tenant_id} is not yours")
        if not validation.fits(tenant_id, ID_MAX_LENGTH):
            # An admin's URL may name any tenant, but only one that can be stored.
            raise exceptions.BadRequest(
                reason=f"a tenant id is 1 to {ID_MAX_LENGTH} characters without control characters"
            )
        return context

    def _check_token(self, environ: dict[str, Any]) -> None:
        """Have keystonemiddleware validate the token (it sets the identity headers).

        :raises quantum.exceptions.NotAuthenticated: no valid token (``WWW-Authenticate``).
        :raises quantum.exceptions.ServiceUnavailable: Keystone cannot be asked.
        :raises quantum.exceptions.QuantumException: the middleware failed (logged).
        """
        assert self.token_check is not None
        try:
            rejection = self.token_check.check(environ)
        except keystone.CheckFailed as exc:
            raise exceptions.QuantumException(
                "Tokens cannot be checked: the authentication middleware failed (logged)."
            ) from exc
        if rejection is None:
            return
        error: exceptions.QuantumException
        if rejection.status == 401:
            error = exceptions.NotAuthenticated(rejection.message)
            error.headers = tuple(rejection.headers)
        elif rejection.status >= 500:
            error = exceptions.ServiceUnavailable(reason="the identity service cannot check tokens")
        else:
            error = exceptions.BadRequest(reason=rejection.message)
        raise error

    # --- WSGI --------------------------------------------------------------------

    def versions(self, request: webob.Request):
        # v2.0 is listed for the clients' version discovery (keystoneauth takes
        # the highest): it leads them to the read-only port view, nothing more.
        url = self.endpoint or request.host_url
        return 200, {
            "versions": [
                {
                    "id": "v1.1",
                    "status": "CURRENT",
                    "links": [{"rel": "self", "href": f"{url}/v1.1"}],
                },
                {
                    "id": "v2.0",
                    "status": "SUPPORTED",
                    "links": [{"rel": "self", "href": f"{url}{NEUTRON}"}],
                },
            ]
        }

    def neutron_resources(self, request: webob.Request):
        """Return Neutron's ``GET /v2.0`` document: the one collection of this view."""
        url = self.endpoint or request.host_url
        return 200, {
            "resources": [
                {
                    "name": "port",
                    "collection": "ports",
                    "links": [{"rel": "self", "href": f"{url}{NEUTRON}/ports"}],
                }
            ]
        }

    def _dispatch(self, request: webob.Request) -> wsgi.Response:
        content_type = wsgi.response_type(request)
        try:
            controller, actions, kwargs = self._match(request.path_info)
            action = actions.get(request.method)
            if action is None:
                raise exceptions.MethodNotAllowed(method=request.method)
            if controller is None:
                status, body = getattr(self, action)(request)
                return wsgi.respond(status, body, content_type)
            context = self.authenticate(request, kwargs.get("tenant_id"))
            if request.method in ("POST", "PUT"):
                kwargs["body"] = wsgi.parse_body(request, self.conf.max_request_body_size)
            # The transaction begins at the action's first database call: a
            # write request holds no lock while its body is checked.
            with self.db.request_scope(read_only=request.method in ("GET", "HEAD")):
                status, body = getattr(controller, action)(request, context, **kwargs)
            return wsgi.respond(status, body, content_type)
        except exceptions.QuantumException as exc:
            return wsgi.fault(exc, content_type)
        except Exception as exc:  # noqa: BLE001 - a fault, never a traceback, for the client
            if servicekit_db.unavailable(exc):
                LOG.error("Database unavailable in %s %s: %s", request.method, request.path, exc)
                unavailable = exceptions.ServiceUnavailable(reason="database unavailable")
                return wsgi.fault(unavailable, content_type)
            LOG.exception("Unexpected error in %s %s", request.method, request.path)
            return wsgi.fault(exceptions.QuantumException(), content_type)

    def __call__(self, environ, start_response):
        started = time.monotonic()
        problem = validation.url_error(environ)
        chosen = wsgi.strip_format_suffix(environ)
        if chosen:
            environ["quantum.format"] = chosen
        request = webob.Request(environ)
        if problem is None:
            response = self._dispatch(request)
        else:
            # Nothing may read the path or query (WebOb would fail decoding them).
            refused = exceptions.BadRequest(reason=f"malformed URL: {problem}")
            response = wsgi.fault(refused, wsgi.response_type(request))
        level = logging.DEBUG if environ.get("REMOTE_ADDR") == IN_PROCESS else logging.INFO
        if ACCESS_LOG.isEnabledFor(level):
            ACCESS_LOG.log(
                level,
                '%s "%s %s" %s %.1fms',
                request.remote_addr,
                request.method,
                request.path_qs if problem is None else validation.quoted_url(environ),
                response.status_int,
                (time.monotonic() - started) * 1000,
            )
        return response(environ, start_response)
