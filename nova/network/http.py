"""JSON-over-HTTP client base for the network services Nova calls.

One ``requests`` session per client (connections are reused), a timeout on
every call, retries only when the connection could not be made (nothing
reached the service, so even a POST is safe to repeat), and a table from the
service's faults to Nova's exceptions.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from collections.abc import Mapping
from typing import Any

import requests
from requests import adapters
from urllib3.util import retry

from nova import exception

LOG = logging.getLogger(__name__)

#: (HTTP status, the service's fault name) -> exception, given the call's ids and message.
FaultTable = Mapping[tuple[int, str], Callable[[dict, str], exception.NovaException]]


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
    ) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers.update({"Accept": "application/json", "User-Agent": "nova"})
        self.session.headers.update(headers)
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
