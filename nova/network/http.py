"""JSON-over-HTTP client base for the network services Nova calls.

One ``requests`` session per client (connections are reused), a timeout on
every call, retries only when the connection could not be made (nothing
reached the service, so even a POST is safe to repeat), and a table from the
service's faults to Nova's exceptions.

A service running in this very process (the embedded Quantum of
``nova-all``) is called through ``WSGITransport`` instead of a socket: the
same requests (WebOb builds their environs), status codes and fault
handling, without HTTP (or the ``requests`` machinery) in between.
"""

from __future__ import annotations

import json
import logging
import urllib.parse
from collections.abc import Callable
from collections.abc import Mapping
from typing import Any

import requests
import webob
from requests import adapters
from urllib3.util import retry

from nova import exception

LOG = logging.getLogger(__name__)

#: (HTTP status, the service's fault name) -> exception, given the call's ids and message.
FaultTable = Mapping[tuple[int, str], Callable[[dict, str], exception.NovaException]]


class InProcessResponse:
    """A response of a WSGI app called in this process: what ``JSONClient`` reads of one."""

    def __init__(self, status_code: int, content: bytes) -> None:
        self.status_code = status_code
        self.content = content

    @property
    def text(self) -> str:
        """Return the body as text."""
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        """Return the decoded JSON body (``ValueError`` if it is not JSON)."""
        return json.loads(self.content)


class WSGITransport:
    """Hands each request to a WSGI app in this process, as a WSGI server would.

    The call runs in the caller's thread; there is no connection to lose,
    so timeouts and connect retries do not apply.
    """

    #: ``REMOTE_ADDR`` of the requests (the service logs them at DEBUG).
    remote_addr = "in-process"

    def __init__(self, app: Callable, url: str) -> None:
        self.app = app
        self.url = url.rstrip("/")

    def send(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str],
        body: bytes | None = None,
        params: Mapping[str, str] | None = None,
    ) -> InProcessResponse:
        """Return the app's response to ``method`` on ``path`` (below the client's URL)."""
        url = self.url + path
        if params:
            url += "?" + urllib.parse.urlencode(params, doseq=True)
        if body is not None:
            headers = {**headers, "Content-Type": "application/json"}
        request = webob.Request.blank(
            url, environ={"REMOTE_ADDR": self.remote_addr}, method=method, headers=headers
        )
        if body is not None:
            request.body = body
        try:
            # The app's own answer, without a webob.Response made of it again.
            status, _headers, app_iter = request.call_application(self.app)
            try:
                content = b"".join(app_iter)
            finally:
                if hasattr(app_iter, "close"):
                    app_iter.close()
        except Exception:  # noqa: BLE001 - what a WSGI server answers to a crashing app
            LOG.exception("In-process %s %s raised", method, path)
            return InProcessResponse(500, b"Internal Server Error")
        return InProcessResponse(int(status[:3]), content)


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
        #: Set when the service runs in this process: calls skip HTTP.
        self.transport = WSGITransport(app, self.url) if app is not None else None
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
    def fault_of(response: requests.Response | InProcessResponse) -> tuple[str, str]:
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
        timeout: float | None = None,
    ) -> Any:
        """Send one request; return the decoded JSON body (None when empty).

        :param ids: the call's object ids, for the exception messages.
        :param timeout: seconds to wait for the reply (default: the client's).
        :raises nova.exception.NetworkServiceUnavailable: no connection, timeout or 503.
        :raises nova.exception.NetworkServiceError: an error the table does not map.
        """
        if self.transport is not None:
            data = None if body is None else json.dumps(body).encode()
            answer = self.transport.send(method, path, self.session.headers, data, params)
            return self._result(method, path, answer, ids)
        timeout = timeout or self.timeout
        try:
            response = self.session.request(
                method, self.url + path, json=body, params=params, timeout=timeout
            )
        except requests.ConnectionError as exc:
            raise exception.NetworkServiceUnavailable(url=self.url, reason=str(exc)) from exc
        except requests.Timeout as exc:
            raise exception.NetworkServiceUnavailable(
                url=self.url, reason=f"no answer to {method} {path} in {timeout}s"
            ) from exc
        return self._result(method, path, response, ids)

    def _result(self, method: str, path: str, response, ids: dict | None) -> Any:
        """Return a response's decoded JSON body, or raise what its fault maps to."""
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
