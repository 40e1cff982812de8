"""JSON-over-HTTP client base for the network services Nova calls.

One ``requests`` session per client (connections are reused), a timeout on
every call, retries only when the connection could not be made (nothing
reached the service, so even a POST is safe to repeat), and a table from the
service's faults to Nova's exceptions.

A service running in this very process (the embedded Quantum of
``nova-all``) is called through ``WSGITransport`` instead of a socket: the
same requests (WebOb builds their environs), status codes and fault
handling, without HTTP (or the ``requests`` machinery) in between.

The token of a call comes from a ``nova.keystone.ServiceAuth``: the user's,
when the call is made inside ``acting_for(context)`` (the network API's
methods are, with the ``on_behalf`` decorator), else the service user's; a
401 to the user's token (expired, revoked) is tried once more as the
service user.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import json
import logging
import urllib.parse
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from typing import Any
from typing import TypeVar

import requests
import webob
from requests import adapters
from urllib3.util import retry

from nova import context as nova_context
from nova import exception
from nova import keystone

LOG = logging.getLogger(__name__)

#: The context the calls of this thread (or task) are made for, if any.
_ACTING_FOR: contextvars.ContextVar[nova_context.RequestContext | None] = contextvars.ContextVar(
    "nova_network_acting_for", default=None
)

_F = TypeVar("_F", bound=Callable[..., Any])


@contextlib.contextmanager
def acting_for(context: nova_context.RequestContext | None) -> Iterator[None]:
    """Make the calls inside carry ``context``'s token (see ``ServiceAuth.headers``)."""
    token = _ACTING_FOR.set(context)
    try:
        yield
    finally:
        _ACTING_FOR.reset(token)


def on_behalf(method: _F) -> _F:
    """Run ``method(self, context, ...)`` inside ``acting_for(context)``."""

    @functools.wraps(method)
    def wrapper(self, context, *args, **kwargs):
        with acting_for(context):
            return method(self, context, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


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
        auth: keystone.ServiceAuth | None = None,
    ) -> None:
        """:param app: the service's WSGI application, when it runs in this process.
        :param auth: the token of each call; None: ``headers`` hold the only one.
        """
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.auth = auth
        self.session = requests.Session()
        self.session.headers.update({"Accept": "application/json", "User-Agent": "nova"})
        self.session.headers.update(headers)
        if auth is not None:
            self.session.verify = auth.verify
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
        if self.auth is None or not self.auth.per_call:
            # The one token is among the session's headers (noauth: as before Keystone).
            return self._result(
                method, path, self._send(method, path, body, params, {}, timeout), ids
            )
        context = _ACTING_FOR.get()
        response = self._send(method, path, body, params, self.auth.headers(context), timeout)
        if (
            response.status_code == 401
            and self.auth.uses_keystone
            and context is not None
            and context.auth_token
        ):
            # The user's token expired or was revoked since the request came in.
            LOG.info(
                "%s refused the token of user %s for %s %s: retrying as the service user",
                self.service,
                context.user_id,
                method,
                path,
            )
            response = self._send(method, path, body, params, self.auth.service_headers(), timeout)
        return self._result(method, path, response, ids)

    def _send(
        self,
        method: str,
        path: str,
        body: dict | None,
        params: dict | None,
        headers: Mapping[str, str],
        timeout: float | None = None,
    ) -> requests.Response | InProcessResponse:
        """Send one request with ``headers`` over the session's; return the answer."""
        if self.transport is not None:
            data = None if body is None else json.dumps(body).encode()
            sent = {**self.session.headers, **headers} if headers else self.session.headers
            return self.transport.send(method, path, sent, data, params)
        timeout = timeout or self.timeout
        try:
            return self.session.request(
                method,
                self.url + path,
                json=body,
                params=params,
                timeout=timeout,
                headers=headers or None,
            )
        except requests.ConnectionError as exc:
            raise exception.NetworkServiceUnavailable(url=self.url, reason=str(exc)) from exc
        except requests.Timeout as exc:
            raise exception.NetworkServiceUnavailable(
                url=self.url, reason=f"no answer to {method} {path} in {timeout}s"
            ) from exc

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
