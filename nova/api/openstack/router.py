"""The compute API application: routes, authentication, dispatch, request ids, access log.

Every path is served with and without a ``/{project_id}`` segment after the
version (as Nova does); the segment must name the caller's project. The
version documents and the OpenAPI description (``/v2.1/openapi.json``, built
from this route table) are public and have no project segment. Routes
match the path; the method then picks the controller action (405 if none).
"""

from __future__ import annotations

import logging
import time
import uuid

import routes
from oslo_middleware import http_proxy_to_wsgi

import nova.conf
from nova import context as nova_context
from nova import exception
from nova.api.openstack import api_version
from nova.api.openstack import auth
from nova.api.openstack import extensions
from nova.api.openstack import openapi
from nova.api.openstack import wsgi
from nova.api.openstack.compute import aggregates
from nova.api.openstack.compute import availability_zones
from nova.api.openstack.compute import extension_info
from nova.api.openstack.compute import flavors
from nova.api.openstack.compute import flavors_extraspecs
from nova.api.openstack.compute import hypervisors
from nova.api.openstack.compute import images
from nova.api.openstack.compute import interfaces
from nova.api.openstack.compute import ips
from nova.api.openstack.compute import keypairs
from nova.api.openstack.compute import limits
from nova.api.openstack.compute import quota_sets
from nova.api.openstack.compute import server_metadata
from nova.api.openstack.compute import servers
from nova.api.openstack.compute import services
from nova.api.openstack.compute import versions
from nova.compute import api as compute_api_module
from servicekit import keystone
from servicekit import validation

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)
ACCESS_LOG = logging.getLogger("nova.api.access")

# Controller method -> (HTTP method, on the member rather than the collection)
_RESOURCE_METHODS = {
    "index": ("GET", False),
    "create": ("POST", False),
    "show": ("GET", True),
    "update": ("PUT", True),
    "delete": ("DELETE", True),
}


class APIRouter:
    """The WSGI application of the compute API v2.1."""

    def __init__(
        self,
        compute_api: compute_api_module.API | None = None,
        extension_manager: extensions.ExtensionManager | None = None,
    ) -> None:
        self.extensions = extension_manager or extensions.ExtensionManager(
            extensions.configured_paths(CONF.api.extensions_path)
        )
        self.compute_api = compute_api or compute_api_module.API()
        for extension in self.extensions:
            extension.compute_api = self.compute_api
        self.authenticate = auth.STRATEGIES[CONF.api.auth_strategy]
        #: keystonemiddleware, asked before any path that is not public.
        self.token_check = (
            keystone.TokenCheck(CONF, "nova") if CONF.api.auth_strategy == "keystone" else None
        )
        self.max_body = CONF.api.max_request_body_size
        self.endpoint = (CONF.api.public_endpoint or "").rstrip("/")
        self.mapper = routes.Mapper()
        self._routes: dict[str, tuple[object, dict[str, str], bool]] = {}

        version_controller = versions.VersionsController()
        self._connect("/", version_controller, public=True, GET="versions")
        self._connect("/v2.1", version_controller, public=True, GET="version")
        self._connect("/v2", version_controller, public=True, GET="version_v20")
        # The description of every route (this one too), public like the versions.
        self._connect(
            openapi.PATH, openapi.OpenAPIController(self._routes), public=True, GET="show"
        )
        flavor_controller = flavors.FlavorsController(self.compute_api, CONF.api.max_limit)
        server_controller = servers.ServersController(
            self.compute_api, self.extensions, CONF.api.max_limit, CONF.api.max_server_count
        )
        extension_controller = extension_info.ExtensionsController(self.extensions)
        metadata_controller = server_metadata.ServerMetadataController(self.compute_api)
        ips_controller = ips.IPsController(self.compute_api)
        interface_controller = interfaces.InterfaceAttachmentController(self.compute_api)
        zone_controller = availability_zones.AvailabilityZoneController(self.compute_api)
        quota_controller = quota_sets.QuotaSetsController()
        limits_controller = limits.LimitsController()
        keypair_controller = keypairs.KeypairController()
        image_controller = images.ImagesController(self.compute_api, CONF.api.max_limit)
        for prefix in ("/v2.1", "/v2.1/{project_id}"):
            self._connect(f"{prefix}/flavors", flavor_controller, GET="index", POST="create")
            self._connect(f"{prefix}/flavors/detail", flavor_controller, GET="detail")
            self._connect(
                f"{prefix}/flavors/{{flavor_id}}", flavor_controller, GET="show", DELETE="delete"
            )
            self._connect(f"{prefix}/servers", server_controller, GET="index", POST="create")
            self._connect(f"{prefix}/servers/detail", server_controller, GET="detail")
            self._connect(
                f"{prefix}/servers/{{server_id}}",
                server_controller,
                GET="show",
                PUT="update",
                DELETE="delete",
            )
            self._connect(
                f"{prefix}/servers/{{server_id}}/action", server_controller, POST="action"
            )
            server = f"{prefix}/servers/{{server_id}}"
            self._connect(
                f"{server}/metadata",
                metadata_controller,
                GET="index",
                POST="create",
                PUT="update_all",
            )
            self._connect(
                f"{server}/metadata/{{id}}",
                metadata_controller,
                GET="show",
                PUT="update",
                DELETE="delete",
            )
            self._connect(f"{server}/ips", ips_controller, GET="index")
            self._connect(f"{server}/ips/{{id}}", ips_controller, GET="show")
            self._connect(
                f"{server}/os-interface", interface_controller, GET="index", POST="create"
            )
            self._connect(
                f"{server}/os-interface/{{id}}", interface_controller, GET="show", DELETE="delete"
            )
            self._connect(f"{prefix}/os-availability-zone", zone_controller, GET="index")
            self._connect(f"{prefix}/os-availability-zone/detail", zone_controller, GET="detail")
            self._connect(f"{prefix}/extensions", extension_controller, GET="index")
            self._connect(f"{prefix}/extensions/{{alias}}", extension_controller, GET="show")
            self._connect_admin_routes(prefix)
            self._connect(f"{prefix}/limits", limits_controller, GET="index")
            self._connect(
                f"{prefix}/os-quota-sets/{{tenant_id}}",
                quota_controller,
                GET="show",
                PUT="update",
                DELETE="delete",
            )
            self._connect(
                f"{prefix}/os-quota-sets/{{tenant_id}}/defaults", quota_controller, GET="defaults"
            )
            self._connect(
                f"{prefix}/os-quota-sets/{{tenant_id}}/detail", quota_controller, GET="detail"
            )
            self._connect(f"{prefix}/os-keypairs", keypair_controller, GET="index", POST="create")
            self._connect(
                f"{prefix}/os-keypairs/{{keypair_name}}",
                keypair_controller,
                GET="show",
                DELETE="delete",
            )
            self._connect(f"{prefix}/images", image_controller, GET="index")
            self._connect(f"{prefix}/images/detail", image_controller, GET="detail")
            self._connect(
                f"{prefix}/images/{{image_id}}", image_controller, GET="show", DELETE="delete"
            )
            for extension in self.extensions:
                for resource in extension.get_resources():
                    self._connect_resource(prefix, resource)

    def _connect_admin_routes(self, prefix: str) -> None:
        """Flavor extra specs, os-services, os-hypervisors, os-aggregates (hosts: admins)."""
        specs = flavors_extraspecs.FlavorExtraSpecsController()
        base = f"{prefix}/flavors/{{flavor_id}}/os-extra_specs"
        self._connect(base, specs, GET="index", POST="create")
        self._connect(f"{base}/{{key}}", specs, GET="show", PUT="update", DELETE="delete")
        service_controller = services.ServicesController()
        self._connect(f"{prefix}/os-services", service_controller, GET="index")
        self._connect(
            f"{prefix}/os-services/{{service_id}}",
            service_controller,
            PUT="update",
            DELETE="delete",
        )
        hypervisor_controller = hypervisors.HypervisorsController()
        base = f"{prefix}/os-hypervisors"
        self._connect(base, hypervisor_controller, GET="index")
        self._connect(f"{base}/detail", hypervisor_controller, GET="detail")
        self._connect(f"{base}/statistics", hypervisor_controller, GET="statistics")
        self._connect(f"{base}/{{hypervisor_id}}", hypervisor_controller, GET="show")
        self._connect(f"{base}/{{hypervisor_id}}/uptime", hypervisor_controller, GET="uptime")
        self._connect(f"{prefix}/os-aggregates", aggregates.AggregatesController(), GET="index")

    @property
    def route_table(self) -> openapi.RouteTable:
        """Return ``{path template: (controller, {HTTP method: action}, public)}``."""
        return dict(self._routes)

    def _connect(self, path: str, controller, public: bool = False, **actions: str) -> None:
        self._routes[path] = (controller, actions, public)
        self.mapper.connect(path, route=path)

    def _connect_resource(self, prefix: str, resource: extensions.ResourceExtension) -> None:
        base = f"{prefix}/{resource.collection}"
        if resource.parent:
            base = f"{prefix}/{resource.parent}/{{{resource.parent[:-1]}_id}}/{resource.collection}"
        collection: dict[str, str] = {}
        member: dict[str, str] = {}
        for name, (method, on_member) in _RESOURCE_METHODS.items():
            if callable(getattr(resource.controller, name, None)):
                (member if on_member else collection)[method] = name
        if collection:
            self._connect(base, resource.controller, False, **collection)
        if member:
            self._connect(f"{base}/{{id}}", resource.controller, False, **member)

    # --- serving -------------------------------------------------------------------

    def _dispatch(self, request: wsgi.Request, request_id: str) -> wsgi.Response:
        path = request.path_info.rstrip("/") or "/"
        match = self.mapper.match(path)
        if match is None:
            raise exception.NotFound("The resource could not be found.")
        controller, actions, public = self._routes[match.pop("route")]
        action = actions.get(request.method)
        if action is None:
            raise exception.MethodNotAllowed(method=request.method)
        if not public:
            if self.token_check is not None:
                self._check_token(request)
            context = self.authenticate(request.headers, request_id)
            request.environ["nova.context"] = context
            project_id = match.pop("project_id", None)
            if project_id is not None and project_id != context.project_id:
                raise exception.Invalid(
                    reason="Malformed request URL: URL's project_id "
                    f"'{project_id}' doesn't match Context's project_id "
                    f"'{context.project_id}'"
                )
            if project_id is not None:
                # Links in the answer keep the segment, as Nova's do.
                request.environ[wsgi.PROJECT_IN_URL] = project_id
        if request.method in ("POST", "PUT"):
            match["body"] = wsgi.read_json_body(request, self.max_body)
        status, body = getattr(controller, action)(request, **match)
        return wsgi.json_response(status, body)

    def _check_token(self, request: wsgi.Request) -> None:
        """Have keystonemiddleware validate the token (it sets the identity headers).

        :raises nova.exception.NotAuthenticated: no token, or not a valid one
            (with ``WWW-Authenticate``).
        :raises nova.exception.IdentityServiceUnavailable: Keystone cannot be asked.
        :raises nova.exception.TokenCheckFailed: the middleware failed.
        """
        assert self.token_check is not None
        try:
            rejection = self.token_check.check(request.environ)
        except keystone.CheckFailed as exc:
            raise exception.TokenCheckFailed() from exc
        if rejection is None:
            return
        if rejection.status == 401:
            error: exception.NovaException = exception.NotAuthenticated(rejection.message)
            error.headers = tuple(rejection.headers)
            raise error
        if rejection.status >= 500:
            raise exception.IdentityServiceUnavailable()
        raise exception.Invalid(reason=rejection.message)

    def __call__(self, environ, start_response):
        started = time.monotonic()
        request_id = f"req-{uuid.uuid4()}"
        if self.endpoint:
            environ["nova.endpoint"] = self.endpoint
        request = wsgi.Request(environ)
        # Who is calling is known once authenticated; until then (and for
        # public paths) the context only carries the request id.
        environ["nova.context"] = nova_context.RequestContext(
            user_id=None, project_id=None, request_id=request_id
        )
        problem = validation.url_error(environ)
        version = None
        if problem is not None:
            # Nothing may read the path or query (WebOb would fail decoding them).
            response = wsgi.fault(400, f"Malformed request URL: {problem}.")
        else:
            try:
                version = api_version.negotiate(request.headers)
                api_version.set_requested(environ, version)
                response = self._dispatch(request, request_id)
            except Exception as exc:  # noqa: BLE001 - every error becomes a fault
                response = wsgi.fault_for(exc, request)
        # Responses are built here and carry none of these headers yet; one
        # refused for its version has none of the version's (as Nova's).
        response.headerlist.extend(
            [
                ("x-openstack-request-id", request_id),
                ("x-compute-request-id", request_id),
                *(api_version.response_headers(version) if version is not None else ()),
            ]
        )
        if ACCESS_LOG.isEnabledFor(logging.INFO):
            ACCESS_LOG.info(
                '%s "%s %s" status: %s len: %s time: %.4f %s',
                request.remote_addr,
                request.method,
                request.path_qs if problem is None else validation.quoted_url(environ),
                response.status_int,
                response.content_length or 0,
                time.monotonic() - started,
                request_id,
            )
        return response(environ, start_response)


def build_app():
    """Return the compute API (with ``keystone``, it runs keystonemiddleware itself).

    With ``[oslo_middleware] enable_proxy_headers_parsing`` (off by default)
    oslo.middleware's ``HTTPProxyToWSGI`` goes around it: the ``Forwarded``/
    ``X-Forwarded-Proto``/``X-Forwarded-Host`` headers of the proxy in front
    set the scheme and host of the links. Off, they are ignored: any client
    could send them.
    """
    app = APIRouter()
    if CONF.oslo_middleware.enable_proxy_headers_parsing:
        # Outermost: the client's scheme and host, as the trusted proxy says them.
        return http_proxy_to_wsgi.HTTPProxyToWSGI(app, CONF)
    return app
