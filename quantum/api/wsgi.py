"""Requests, content negotiation (JSON or XML), body validation and faults.

A format is picked by the path suffix (``.json``/``.xml``), else by
``Accept``; request bodies are read as their ``Content-Type`` says. XML is
parsed without DTDs or entity expansion.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any

import webob
from lxml import etree
from webob import acceptparse

from quantum import exceptions
from servicekit import validation
from servicekit import wsgi as servicekit_wsgi

XMLNS = "http://openstack.org/quantum/api/v1.1"
JSON = "application/json"
XML = "application/xml"
SUFFIXES = {".json": JSON, ".xml": XML}

_XML_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
)
# Collections and the element name of their members, in XML.
_SINGULAR = {"networks": "network", "ports": "port", "versions": "version", "links": "link"}


def strip_format_suffix(environ: dict) -> str | None:
    """Remove a ``.json``/``.xml`` suffix from PATH_INFO; return its content type."""
    path = environ.get("PATH_INFO", "")
    for suffix, content_type in SUFFIXES.items():
        if path.endswith(suffix):
            environ["PATH_INFO"] = path[: -len(suffix)]
            return content_type
    return None


def response_type(request: webob.Request) -> str:
    """Return the content type to answer in."""
    chosen = request.environ.get("quantum.format")
    if chosen:
        return chosen
    return _negotiate(request.environ.get("HTTP_ACCEPT"))


# A client sends the same Accept header on every call: negotiate each once.
@functools.lru_cache(maxsize=64)
def _negotiate(accept: str | None) -> str:
    offers = acceptparse.create_accept_header(accept).acceptable_offers([JSON, XML])
    return offers[0][0] if offers else JSON


# --- bodies in ---------------------------------------------------------------


def _configuration(element: etree._Element) -> dict[str, str]:
    """Return ``<configuration><conf key="k">v</conf>…</configuration>`` as a dict.

    :raises quantum.exceptions.BadRequest: a ``<conf>`` without a ``key``.
    """
    values = {}
    for conf in element:
        if isinstance(conf.tag, str) and etree.QName(conf).localname == "conf":
            key = conf.get("key")
            if key is None:
                raise exceptions.BadRequest(reason="a <conf> element has no key attribute")
            values[key] = conf.text or ""
    return values


def _xml_to_dict(element: etree._Element) -> dict[str, Any]:
    values: dict[str, Any] = dict(element.attrib)
    for child in element:
        if not isinstance(child.tag, str):
            continue  # comments, processing instructions
        name = etree.QName(child).localname
        if name == "configuration":
            values[name] = _configuration(child)
        else:
            values[name] = _xml_to_dict(child)
    return values


def parse_body(request: webob.Request, max_size: int) -> dict[str, Any] | None:
    """Return the request body as a dict (JSON or XML), or None when empty.

    :raises quantum.exceptions.RequestTooLarge: over ``max_size`` bytes.
    :raises quantum.exceptions.UnsupportedMediaType: neither JSON nor XML.
    :raises quantum.exceptions.BadRequest: unparsable, JSON that is not UTF-8
        (or starts with a byte order mark), nested too deep, a NUL character.
    """
    size = request.content_length
    if size is not None and size > max_size:
        raise exceptions.RequestTooLarge(limit=max_size)
    # Read what the request says it sends: reading ``max_size`` would make
    # the body file allocate a buffer that large for every request.
    raw = request.body_file.read(max_size + 1 if size is None else size)
    if len(raw) > max_size:
        raise exceptions.RequestTooLarge(limit=max_size)
    if not raw.strip():
        return None
    content_type = request.content_type or JSON
    if content_type in (JSON, "text/json"):
        try:
            body = validation.load_json(raw)
        except validation.DocumentError as exc:
            raise exceptions.BadRequest(reason=f"body refused: {exc}") from exc
        if not isinstance(body, dict):
            raise exceptions.BadRequest(reason="body must be a JSON object")
        return body
    if content_type in (XML, "text/xml"):
        try:
            root = etree.fromstring(raw, _XML_PARSER)
        except etree.XMLSyntaxError as exc:
            raise exceptions.BadRequest(reason=f"body is not valid XML ({exc})") from exc
        if root.getroottree().docinfo.doctype:
            raise exceptions.BadRequest(reason="DTDs are not accepted")
        body = {etree.QName(root).localname: _xml_to_dict(root)}
        try:
            validation.check_document(body)
        except validation.DocumentError as exc:
            raise exceptions.BadRequest(reason=f"body refused: {exc}") from exc
        return body
    raise exceptions.UnsupportedMediaType(content_type=content_type)


def validate(body: Mapping[str, Any] | None, schema: Mapping[str, Any]) -> dict[str, Any]:
    """Check ``body`` against a JSON Schema; return it (``{}`` for no body).

    :raises quantum.exceptions.RequestedStateInvalid: a port ``state`` is wrong.
    :raises quantum.exceptions.BadRequest: anything else does not fit.
    """
    body = dict(body or {})
    error = validation.checker(schema).error(body)
    if error is None:
        return body
    if list(error.path)[-1:] == ["state"]:
        raise exceptions.RequestedStateInvalid(state=error.instance)
    where = "/".join(str(part) for part in error.path) or "body"
    raise exceptions.BadRequest(reason=f"{where}: {error.message}")


def require_admin_for(context, values: dict, keys: tuple[str, ...]) -> None:
    """Refuse non-admins that set any of ``keys``.

    :raises quantum.exceptions.Forbidden: they did.
    """
    if context.is_admin:
        return
    for key in keys:
        if key in values:
            raise exceptions.Forbidden(reason=f"only an admin may set {key!r}")


# --- bodies out --------------------------------------------------------------


def _dict_to_xml(name: str, values: Mapping[str, Any], nsmap=None) -> etree._Element:
    element = etree.Element(name, nsmap=nsmap)
    for key, value in values.items():
        if key == "configuration" and isinstance(value, Mapping):
            configuration = etree.SubElement(element, "configuration")
            for conf_key, conf_value in value.items():
                conf = etree.SubElement(configuration, "conf", key=conf_key)
                conf.text = conf_value
        elif isinstance(value, Mapping):
            element.append(_dict_to_xml(key, value))
        elif isinstance(value, list):
            container = etree.SubElement(element, key)
            for item in value:
                container.append(_dict_to_xml(_SINGULAR.get(key, key.rstrip("s")), item))
        elif value is not None:
            element.set(key, str(value))
    return element


def serialize(body: Mapping[str, Any], content_type: str) -> bytes:
    """Render a response body ``{root: values}`` as JSON or XML."""
    if content_type == XML:
        ((name, values),) = body.items()
        if isinstance(values, list):
            root = etree.Element(name, nsmap={None: XMLNS})
            for item in values:
                root.append(_dict_to_xml(_SINGULAR.get(name, name.rstrip("s")), item))
        elif name == "configuration":
            # <configuration><conf key="k">v</conf>…</configuration>, as in a port's detail.
            root = etree.Element(name, nsmap={None: XMLNS})
            for conf_key, conf_value in values.items():
                etree.SubElement(root, "conf", key=conf_key).text = conf_value
        else:
            root = _dict_to_xml(name, values, nsmap={None: XMLNS})
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return json.dumps(body).encode()


Response = servicekit_wsgi.Response
_CONTENT_TYPES = {JSON: JSON, XML: f"{XML}; charset=UTF-8"}


def respond(status: int, body: Mapping[str, Any] | None, content_type: str) -> Response:
    """Return a response with ``body`` rendered in ``content_type`` (none for 204)."""
    if body is None:
        return Response(status=status)
    return Response(
        body=serialize(body, content_type), status=status, content_type=_CONTENT_TYPES[content_type]
    )


#: Seconds a client is asked to wait before it tries a 503 again (``Retry-After``).
RETRY_AFTER = 5


def fault(error: exceptions.QuantumException, content_type: str) -> Response:
    """Return the v1.1 fault response for ``error`` (503: with ``Retry-After``)."""
    body = {error.fault: {"code": error.code, "message": error.message, "detail": error.message}}
    response = respond(error.code, body, content_type)
    response.headers.extend(error.headers)
    if error.code == 503:
        response.headers["Retry-After"] = str(RETRY_AFTER)
    return response


#: v1.1 fault names of the answers the HTTP server gives before the API runs.
_SERVER_FAULTS = {413: "overLimit", 501: "quantumServiceFault"}


def server_fault(code: int, message: str) -> tuple[str, bytes]:
    """Return the JSON fault of an answer the HTTP server gives itself (bad framing, limits)."""
    name = _SERVER_FAULTS.get(code, "malformedRequestBody")
    body = {name: {"code": code, "message": message, "detail": message}}
    return _CONTENT_TYPES[JSON], serialize(body, JSON)
