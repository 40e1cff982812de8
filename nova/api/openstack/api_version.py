"""Microversions: the version of the compute API a request asks for, as Nova negotiates it.

A request names its version in ``OpenStack-API-Version: compute X.Y`` (or
the older ``X-OpenStack-Nova-API-Version: X.Y``); without either it gets
the minimum, ``latest`` gets the maximum, and a version outside
``[MIN_VERSION, MAX_VERSION]`` is refused with 406. The router negotiates
once per request (``negotiate``) and puts the result in the environ; a
controller that answers differently from some version on asks
``is_supported(request, "2.x")``.

Only versions whose every change this API implements are claimed: 2.1 alone.
"""

from __future__ import annotations

import re
from collections.abc import MutableMapping
from typing import NamedTuple

import microversion_parse

from nova import exception

HEADER = "OpenStack-API-Version"
LEGACY_HEADER = "X-OpenStack-Nova-API-Version"
SERVICE_TYPE = "compute"
_ENVIRON_KEY = "nova.api_version"
_FORMAT = re.compile(r"^([1-9]\d*)\.([1-9]\d*|0)$")


class APIVersion(NamedTuple):
    """A microversion, ordered as its numbers are (2.10 comes after 2.9)."""

    major: int
    minor: int

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"


def parse(text: str) -> APIVersion:
    """Return the version ``text`` names (``"2.1"``).

    :raises nova.exception.InvalidAPIVersionString: not ``Major.Minor`` (400).
    """
    match = _FORMAT.match(text)
    if match is None:
        raise exception.InvalidAPIVersionString(version=text)
    return APIVersion(int(match.group(1)), int(match.group(2)))


MIN_VERSION = APIVersion(2, 1)
MAX_VERSION = APIVersion(2, 1)


def negotiate(headers: MutableMapping[str, str]) -> APIVersion:
    """Return the version the request with ``headers`` asks for.

    :param headers: the request's headers, names case-insensitive (webob's).

    :raises nova.exception.InvalidAPIVersionString: the header is not a version (400).
    :raises nova.exception.InvalidGlobalAPIVersion: outside the claimed range (406).
    """
    if HEADER not in headers and LEGACY_HEADER not in headers:
        return MIN_VERSION  # most requests: no need to parse (a twentieth of a show's cost)
    asked = microversion_parse.get_version(
        headers, service_type=SERVICE_TYPE, legacy_headers=[LEGACY_HEADER]
    )
    if asked is None:
        return MIN_VERSION
    asked = asked.strip()
    if asked.lower() == "latest":
        return MAX_VERSION
    version = parse(asked)
    if not MIN_VERSION <= version <= MAX_VERSION:
        raise exception.InvalidGlobalAPIVersion(
            req_ver=str(version), min_ver=str(MIN_VERSION), max_ver=str(MAX_VERSION)
        )
    return version


def set_requested(environ: dict, version: APIVersion) -> None:
    """Record the negotiated version of a request (the router does, once)."""
    environ[_ENVIRON_KEY] = version


def requested(request) -> APIVersion:
    """Return the negotiated version of ``request`` (the minimum if none was)."""
    return request.environ.get(_ENVIRON_KEY, MIN_VERSION)


def is_supported(request, minimum: str) -> bool:
    """Tell whether ``request`` asked for ``minimum`` (``"2.x"``) or a later version."""
    return requested(request) >= parse(minimum)


def response_headers(version: APIVersion) -> list[tuple[str, str]]:
    """Return the headers of a response to a request of ``version``, as Nova sends them."""
    return [
        (HEADER, f"{SERVICE_TYPE} {version}"),
        (LEGACY_HEADER, str(version)),
        ("Vary", HEADER),
        ("Vary", LEGACY_HEADER),
    ]
