"""Requests, JSON bodies, declarative validation and Nova's faults.

A fault is ``{"<name>": {"code": N, "message": "..."}}`` with Nova's names.
Domain errors (``NovaException``) carry their HTTP code; an unexpected error
is a 500 ``computeFault`` whose details go to the log, never to the client;
a database that cannot be reached, stays locked by another writer past
``[database] max_write_wait`` or is full is a 503 ``serviceUnavailable``
with a ``Retry-After`` header.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Mapping
from typing import Any

import jsonschema
import orjson
import webob

from nova import context as nova_context
from nova import exception
from nova import utils
from servicekit import db as servicekit_db
from servicekit import validation
from servicekit import wsgi as servicekit_wsgi

LOG = logging.getLogger(__name__)

JSON = "application/json"
_JSON_UTF8 = f"{JSON}; charset=utf-8"
FAULT_NAMES = {
    400: "badRequest",
    401: "unauthorized",
    403: "forbidden",
    404: "itemNotFound",
    405: "badMethod",
    409: "conflictingRequest",
    413: "overLimit",
    415: "badMediaType",
    500: "computeFault",
    501: "notImplemented",
    503: "serviceUnavailable",
}
#: Codes Nova answers without a fault name of their own (``computeFault``).
_UNNAMED_CODES = frozenset({406})


#: The environ key of the ``/{project_id}`` segment of a request's URL, when it had one.
PROJECT_IN_URL = "nova.project_in_url"


class Request(webob.Request):
    """A request with the caller's context."""

    @property
    def context(self) -> nova_context.RequestContext:
        """Return the caller's context (set by the router)."""
        return self.environ["nova.context"]

    @property
    def endpoint(self) -> str:
        """Return the base URL of the links in responses (no version, no trailing "/").

        ``[api] public_endpoint`` when set (the router puts it in the
        environ), else the scheme and host the request came to: its
        ``Host`` header, or with ``[oslo_middleware]
        enable_proxy_headers_parsing`` the proxy's ``X-Forwarded-*``.
        """
        return self.environ.get("nova.endpoint") or self.host_url

    @property
    def project_segment(self) -> str:
        """Return ``/{project_id}`` when the request's URL had that segment, else ``""``.

        Links in a response keep it, as Nova's do (``/v2.1/{project_id}/servers/…``
        and the bookmark ``/{project_id}/servers/…``).
        """
        project_id = self.environ.get(PROJECT_IN_URL)
        return f"/{project_id}" if project_id else ""


Response = servicekit_wsgi.Response


def dumps(body: Any) -> bytes:
    """Return ``body`` as UTF-8 JSON: orjson, a tenth of the stdlib encoder's cost a response.

    Compact (no spaces after separators) and UTF-8 rather than ``\\u``
    escapes, both plain JSON to every client; keys may be non-strings, as
    ``json.dumps`` allows.
    """
    return orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS)


#: Seconds a client is asked to wait before it tries a 503 again (``Retry-After``).
RETRY_AFTER = 5


def fault(code: int, message: str) -> Response:
    """Return a fault response with Nova's name for ``code`` (503: with ``Retry-After``)."""
    name = FAULT_NAMES.get(code, "computeFault")
    body = dumps({name: {"code": code, "message": message}})
    response = Response(body=body, status=code, content_type=_JSON_UTF8)
    if code == 503:
        response.headers["Retry-After"] = str(RETRY_AFTER)
    return response


def server_fault(code: int, message: str) -> tuple[str, bytes]:
    """Return the fault body of an answer the HTTP server gives itself (bad framing, limits).

    Codes Nova has no name for (414, 431) are ``badRequest``, as every 4xx
    of a request the API could not read.
    """
    name = FAULT_NAMES.get(code, "badRequest" if code < 500 else "computeFault")
    return _JSON_UTF8, dumps({name: {"code": code, "message": message}})


def fault_for(error: Exception, request: webob.Request) -> Response:
    """Turn an exception raised while serving ``request`` into a fault response."""
    if isinstance(error, exception.NovaException):
        code = error.code if error.code in FAULT_NAMES or error.code in _UNNAMED_CODES else 500
        if code < 500 or error.safe:
            response = fault(code, error.format_message())
            response.headers.extend(error.headers)
            return response
        LOG.error("%s %s failed: %s", request.method, request.path, error)
        return fault(code, "Unexpected API Error. The error has been logged.")
    if servicekit_db.unavailable(error):
        LOG.error("Database unreachable serving %s %s: %s", request.method, request.path, error)
        return fault(503, "The database is unavailable; try again later.")
    LOG.exception("Unexpected error serving %s %s", request.method, request.path)
    return fault(500, "Unexpected API Error. The error has been logged.")


def read_json_body(request: webob.Request, max_size: int) -> dict[str, Any] | None:
    """Return the JSON object in the body, or None when there is none.

    :raises nova.exception.RequestTooLarge: over ``max_size`` (not read).
    :raises nova.exception.UnsupportedMediaType: not JSON.
    :raises nova.exception.Invalid: not a JSON object in UTF-8 (no byte order
        mark), nested too deep, or with a NUL character in a string.
    """
    if request.content_length is not None and request.content_length > max_size:
        raise exception.RequestTooLarge(limit=max_size)
    raw = request.body_file.read(max_size + 1)
    if len(raw) > max_size:
        raise exception.RequestTooLarge(limit=max_size)
    if not raw.strip():
        return None
    if request.content_type not in (JSON, ""):
        raise exception.UnsupportedMediaType(content_type=request.content_type)
    try:
        body = validation.load_json(raw)
    except validation.DocumentError as exc:
        raise exception.Invalid(reason=f"Malformed request body: {exc}.") from exc
    if not isinstance(body, dict):
        raise exception.Invalid(reason="Malformed request body: expected a JSON object.")
    return body


def validate(instance: Any, schema: Mapping[str, Any], what: str = "body") -> Any:
    """Check ``instance`` against a JSON Schema (a constant, compiled once); return it.

    :raises nova.exception.ValidationError: it does not fit (400).
    """
    error = validation.checker(schema, _FORMATS).error(instance)
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path)
        location = f"{what} {where}" if where else what
        raise exception.ValidationError(reason=f"Invalid input for {location}: {error.message}")
    return instance


def validate_query(request: webob.Request, schema: Mapping[str, Any]) -> dict[str, str]:
    """Return the query parameters of ``request`` checked against ``schema`` (a constant).

    :raises nova.exception.ValidationError: they do not fit (400).
    """
    if not request.query_string:  # most requests: no need to parse one
        return validate({}, schema, "query")
    return validate(dict(request.GET), schema, "query")


_FORMATS = jsonschema.FormatChecker(["uuid", "ipv4", "ipv6", "regex"])


# Base64 as Nova reads it (whitespace and line breaks allowed, padding checked).
@_FORMATS.checks("base64", raises=binascii.Error)
def _is_base64(instance: Any) -> bool:
    if isinstance(instance, str):
        base64.decodebytes(instance.encode("utf-8"))
    return True


# ISO 8601 as Nova's API reads it (jsonschema's own checker wants strict RFC 3339).
@_FORMATS.checks("date-time", raises=ValueError)
def _is_date_time(instance: Any) -> bool:
    return not isinstance(instance, str) or utils.parse_isotime(instance) is not None


def json_response(status: int, body: Mapping[str, Any] | None) -> Response:
    """Return ``body`` as a JSON response (no body for 202/204 when None)."""
    if body is None:
        return Response(status=status)
    return Response(body=dumps(body), status=status, content_type=_JSON_UTF8)
