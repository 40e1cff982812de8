"""The OpenAPI 3.1 description of the compute API, built from the router's route table.

Every path the router serves (with and without the ``/{project_id}``
segment) becomes a path of the description, every HTTP method it routes an
operation, so the description cannot drift from the routes. The request
schemas are the very JSON Schemas the validators use: a controller declares
them in ``query_schemas`` and ``body_schemas`` (``{action: schema}``), the
server create schema already carrying the extensions' keys; ``success``
(``{action: (status, has a body)}``) where Nova answers other than 202 to a
create or 204 to a delete, ``faults`` (``{action: codes}``) for fault codes
the route does not imply. Every operation
documents Nova's fault body, ``{"<faultName>": {"code": N, "message": "..."}}``.

The description is served at ``GET /v2.1/openapi.json`` without
authentication, like the version documents: it is the same for every caller
and reveals nothing a version document and ``/extensions`` would not.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from nova.api.openstack import wsgi
from nova.api.openstack.compute import versions

#: Where the description is served (public, no project segment).
PATH = "/v2.1/openapi.json"

#: A route: ``{path template: (controller, {HTTP method: action}, public)}``.
RouteTable = Mapping[str, tuple[Any, Mapping[str, str], bool]]

# Action -> (success status, whether that response has a JSON body).
_SUCCESS = {"create": (202, True), "delete": (204, False), "action": (202, False)}
_SUCCESS_DESCRIPTIONS = {200: "OK", 202: "Accepted", 204: "Deleted"}
_PARAMETER = re.compile(r"{(\w+)}")

FAULT_SCHEMA = {
    "description": "Nova's fault: one key, the fault's name, holding the code and message.",
    "type": "object",
    "propertyNames": {"enum": sorted(set(wsgi.FAULT_NAMES.values()))},
    "minProperties": 1,
    "maxProperties": 1,
    "additionalProperties": {
        "type": "object",
        "properties": {
            "code": {"type": "integer", "minimum": 400, "maximum": 599},
            "message": {"type": "string"},
        },
        "required": ["code", "message"],
    },
}

_FAULT_DESCRIPTIONS = {
    400: "Bad request: the URL (not UTF-8 once percent-decoded, a control character in "
    "the path, NUL in the query), the body, query or project segment is not valid.",
    401: "No token, or a token that was not accepted.",
    403: "The policy does not allow this caller.",
    404: "The resource named in the path does not exist (or is another project's).",
    409: "The resource is not in a state that allows this.",
    413: "The request body is too large.",
    415: "The request body is not JSON.",
    500: "Unexpected error (the details are in the service's log).",
    501: "Not supported by this cloud (or by its network backend).",
    503: "A service this one depends on is unreachable; try again later.",
}


def _fault_responses(
    public: bool, parameters: list[dict], method: str, action: str, extra: set[int]
) -> dict[int, dict]:
    """Return the fault codes an operation can answer, as ``$ref``s to the components.

    :param extra: codes the controller declares for the action (its ``faults``).
    """
    path_parameters = [p["name"] for p in parameters if p["in"] == "path"]
    codes = {400, 500, 503} | extra  # 400: any URL may be malformed
    if not public:
        codes |= {401, 403}
    if "project_id" in path_parameters:
        codes.add(400)  # the segment must name the caller's project
    if any(p["in"] == "query" for p in parameters):
        codes.add(400)  # a query that does not fit its schema, or an unknown marker
    if any(name != "project_id" for name in path_parameters):
        codes.add(404)
    if method in ("POST", "PUT"):
        codes |= {400, 413, 415}
    if action in ("create", "action"):
        codes.add(409)  # a port or address in use; a server not in the right state
    return {code: {"$ref": f"#/components/responses/{wsgi.FAULT_NAMES[code]}"} for code in codes}


def _parameters(path: str, query_schema: Mapping[str, Any] | None) -> list[dict]:
    """Return the path parameters of ``path`` and the properties of ``query_schema``."""
    parameters: list[dict] = []
    for name in _PARAMETER.findall(path):
        parameter = {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "string", "minLength": 1},
        }
        if name == "project_id":
            parameter["description"] = "The caller's project (optional segment)."
        parameters.append(parameter)
    if query_schema:
        required = set(query_schema.get("required", ()))
        for name, schema in query_schema.get("properties", {}).items():
            parameters.append(
                {
                    "name": name,
                    "in": "query",
                    "required": name in required,
                    "schema": copy.deepcopy(schema),
                }
            )
    return parameters


def _operation(path: str, method: str, controller: Any, action: str, public: bool) -> dict:
    """Return the OpenAPI operation of ``method`` on ``path`` served by ``controller.action``."""
    name = type(controller).__name__.removesuffix("Controller")
    query_schema = getattr(controller, "query_schemas", {}).get(action)
    body_schema = getattr(controller, "body_schemas", {}).get(action)
    parameters = _parameters(path, query_schema)
    status, has_body = getattr(controller, "success", {}).get(action) or _SUCCESS.get(
        action, (200, True)
    )
    extra_faults = set(getattr(controller, "faults", {}).get(action, ()))
    success: dict[str, Any] = {"description": _SUCCESS_DESCRIPTIONS[status]}
    if has_body:
        success["content"] = {wsgi.JSON: {"schema": {"type": "object"}}}
    docstring = (getattr(controller, action).__doc__ or "").strip()
    responses: dict[int, Any] = {status: success}
    for code, body in getattr(controller, "more_success", {}).get(action, {}).items():
        responses[code] = {"description": _SUCCESS_DESCRIPTIONS[code]}
        if body:
            responses[code]["content"] = {wsgi.JSON: {"schema": {"type": "object"}}}
    operation: dict[str, Any] = {
        "operationId": f"{name}.{action}" + (".project" if "{project_id}" in path else ""),
        "tags": [name],
        "summary": docstring.splitlines()[0] if docstring else f"{name} {action}",
        "responses": {
            str(code): response
            for code, response in sorted(
                {
                    **responses,
                    **_fault_responses(public, parameters, method, action, extra_faults),
                }.items()
            )
        },
    }
    if parameters:
        operation["parameters"] = parameters
    if body_schema is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {wsgi.JSON: {"schema": copy.deepcopy(body_schema)}},
        }
    if public:
        operation["security"] = []
    return operation


def describe(routes: RouteTable) -> dict[str, Any]:
    """Return the OpenAPI 3.1 document of the API whose route table is ``routes``."""
    paths: dict[str, dict] = {}
    for path, (controller, actions, public) in routes.items():
        item = paths.setdefault(path, {})
        for method, action in actions.items():
            item[method.lower()] = _operation(path, method, controller, action, public)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "OpenStack Compute API",
            "version": versions.VERSION["version"],
            "description": (
                "Nova's compute API v2.1 with the loaded API extensions. Every path "
                "under /v2.1 is also served under /v2.1/{project_id}, which must name "
                "the caller's project. Errors are Nova faults "
                '{"<faultName>": {"code": N, "message": "..."}}.'
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"token": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "token": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-Auth-Token",
                    "description": (
                        "With noauth2, 'user:project' (user 'admin' is an admin); "
                        "with keystone, a Keystone token."
                    ),
                }
            },
            "schemas": {"Fault": FAULT_SCHEMA},
            "responses": {
                wsgi.FAULT_NAMES[code]: {
                    "description": description,
                    "content": {wsgi.JSON: {"schema": {"$ref": "#/components/schemas/Fault"}}},
                }
                for code, description in sorted(_FAULT_DESCRIPTIONS.items())
            },
        },
    }


class OpenAPIController:
    """``GET /v2.1/openapi.json``: the description of the router it is given."""

    def __init__(self, routes: RouteTable) -> None:
        self.routes = routes
        self._document: dict[str, Any] | None = None

    def show(self, request):
        """The OpenAPI 3.1 description of this API."""
        # Built on first use: the route table is complete once the router is.
        if self._document is None:
            self._document = describe(self.routes)
        return 200, self._document
