"""JSON-over-HTTP client base for the network services Nova calls.

One ``requests`` session per client (connections are reused), a timeout on
every call, retries only when the connection could not be made (nothing
reached the service, so even a POST is safe to repeat), and a table from the
service's faults to Nova's exceptions.

A service running in this very process (the embedded Quantum of
``nova-all``) is called through ``WSGIAdapter`` instead of a socket: the
same requests, responses and fault handling, without HTTP in between.
"""

from __future__ import annotations

import logging
import urllib.parse
from collections.abc import Callable
from collections.abc import Mapping
from typing import Any

import requests
import webob
from requests import adapters
from requests import structures
from urllib3.util import retry

from nova import exception

LOG = logging.getLogger(__name__)

#: (HTTP status, the service's fault name) -> exception, given the call's ids and message.
FaultTable = Mapping[tuple[int, str], Callable[[dict, str], exception.NovaException]]


class WSGIAdapter(adapters.BaseAdapter):
    """A ``requests`` transport that hands each request to a WSGI app in this process.

    The call runs in the caller's thread; there is no connection to lose,
    so timeouts and connect retries do not apply.
    """

    def __init__(self, app: Callable) -> None:
        super().__init__()
        self.app = app

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        """Return the app's response to ``request`` as a ``requests.Response``."""
        url = urllib.parse.urlsplit(request.url)
        body = request.body or b""
        wsgi_request = webob.Request.blank(
            urllib.parse.urlunsplit(("", "", url.path, url.query, "")),
            base_url=f"{url.scheme}://{url.netloc}",
            method=request.method,
            headers=dict(request.headers),
            body=body.encode() if isinstance(body, str) else body,
            environ={"REMOTE_ADDR": "in-process"},
        )
        try:
            wsgi_response = wsgi_request.get_response(self.app)
        except Exception:  # noqa: BLE001 - what a WSGI server answers to a crashing app
            LOG.exception("In-process %s %s raised", request.method, url.path)
            wsgi_response = webob.Response(status=500, body=b"Internal Server Error")
        response = requests.Response()
        response.status_code = wsgi_response.status_int
        response.reason = wsgi_response.status.partition(" ")[2]
        response.headers = structures.CaseInsensitiveDict(wsgi_response.headerlist)
        response._content = wsgi_response.body
        response.encoding = requests.utils.get_encoding_from_headers(response.headers)
        response.url = request.url
        response.request = request
        return response

    def close(self) -> None:
        """Nothing to close: there are no connections."""


class JSONClient:
    """Calls a JSON API at ``url``; subclasses say how faults are named and mapped."""

    #: The service's name in logs.
    service = "network service"
    faults: FaultTable = {}

    def __init__(
        self,
        url: str,
        headers: Mapping[str, str],
        timeout: float = 30.0,
        connect_retries: int = 3,
        app: Callable | None = None,
    ) -> None:
        """:param app: the service's WSGI application, when it runs in this process."""
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers.update({"Accept": "application/json", "User-Agent": "nova"})
        self.session.headers.update(headers)
        if app is not None:
            # No proxy, netrc or CA settings apply in-process: skip reading them per call.
            self.session.trust_env = False
            self.session.mount(self.url, WSGIAdapter(app))
            return
        retries = retry.Retry(
            total=connect_retries,
            connect=connect_retries,
            read=0,
            status=0,
            other=0,
            redirect=0,
            backoff_factor=0.1,
            allowed_methods=None,
            raise_on_status=False,
        )
        self.session.mount(self.url, adapters.HTTPAdapter(max_retries=retries))

    def close(self) -> None:
        """Close the pooled connections."""
        self.session.close()

    @staticmethod
    def fault_of(response: requests.Response) -> tuple[str, str]:
        """Return the fault name and message of an error response."""
        try:
            body = response.json()
            name, details = next(iter(body.items()))
            return name, details.get("message", response.text)
        except (ValueError, AttributeError, StopIteration, TypeError):
            return "", response.text[:200]

    def call(
        self,
        method: str,
        path: str,
        body: dict | None = None,
        params: dict | None = None,
        ids: dict | None = None,
    ) -> Any:
        """Send one request; return the decoded JSON body (None when empty).

        :param ids: the call's object ids, for the exception messages.
        :raises nova.exception.NetworkServiceUnavailable: no connection, timeout or 503.
        :raises nova.exception.NetworkServiceError: an error the table does not map.
        """
        try:
            response = self.session.request(
                method, self.url + path, json=body, params=params, timeout=self.timeout
            )
        except requests.ConnectionError as exc:
            raise exception.NetworkServiceUnavailable(url=self.url, reason=str(exc))
        except requests.Timeout:
            raise exception.NetworkServiceUnavailable(
                url=self.url, reason=f"no answer to {method} {path} in {self.timeout}s"
            )
        LOG.debug("%s %s %s -> %s", self.service, method, path, response.status_code)
        if response.status_code < 400:
            return response.json() if response.content else None
        name, message = self.fault_of(response)
        fault = self.faults.get((response.status_code, name))
        if fault is not None:
            raise fault(ids or {}, message)
        if response.status_code == 503:
            raise exception.NetworkServiceUnavailable(url=self.url, reason=message)
        raise exception.NetworkServiceError(
            status=response.status_code, method=method, path=path, reason=message
        )
