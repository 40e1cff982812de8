"""HTTP client of the Quantum API v1.1, as Nova uses it.

One ``requests`` session per client (connections are reused), a timeout on
every call, retries only when the connection could not be made (nothing
reached the service, so even a POST is safe to repeat), and one table from
the service's faults to Nova's exceptions.
"""

from __future__ import annotations

import logging
from typing import Any

import requests
from requests import adapters
from urllib3.util import retry

from nova import exception

LOG = logging.getLogger(__name__)


def _fault_name(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    return next(iter(body), "") if isinstance(body, dict) else ""


def _fault_message(response: requests.Response) -> str:
    try:
        return next(iter(response.json().values())).get("message", response.text)
    except (ValueError, AttributeError, StopIteration, TypeError):
        return response.text[:200]


# (status, fault) -> how to raise it; ``ids`` holds the network and port of the call.
_FAULTS = {
    (404, "networkNotFound"): lambda ids, msg: exception.NetworkNotFound(
        network_id=ids.get("network")
    ),
    (404, "portNotFound"): lambda ids, msg: exception.PortNotFound(port_id=ids.get("port")),
    (409, "alreadyAttached"): lambda ids, msg: exception.PortInUse(port_id=ids.get("port")),
    (409, "portInUse"): lambda ids, msg: exception.PortInUse(port_id=ids.get("port")),
    (409, "networkInUse"): lambda ids, msg: exception.Conflict(reason=msg),
    (400, "requestedStateInvalid"): lambda ids, msg: exception.Invalid(reason=msg),
    (400, "malformedRequestBody"): lambda ids, msg: exception.Invalid(reason=msg),
}


class QuantumClient:
    """Calls the Quantum API v1.1 at ``url`` with the token Nova was given."""

    def __init__(self, url: str, token: str, timeout: float = 30.0, connect_retries: int = 3):
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers.update(
            {"X-Auth-Token": token, "Accept": "application/json", "User-Agent": "nova"}
        )
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

    def _call(
        self,
        method: str,
        path: str,
        body: dict | None = None,
        params: dict | None = None,
        ids: dict | None = None,
    ) -> Any:
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
        LOG.debug("Quantum %s %s -> %s", method, path, response.status_code)
        if response.status_code < 400:
            return response.json() if response.content else None
        fault = _FAULTS.get((response.status_code, _fault_name(response)))
        if fault is not None:
            raise fault(ids or {}, _fault_message(response))
        if response.status_code == 503:
            raise exception.NetworkServiceUnavailable(url=self.url, reason=_fault_message(response))
        raise exception.NetworkServiceError(
            status=response.status_code,
            method=method,
            path=path,
            reason=_fault_message(response),
        )

    # --- networks ----------------------------------------------------------------

    def list_networks(self, tenant_id: str) -> list[dict]:
        """Return the tenant's networks with their details."""
        return self._call("GET", f"/v1.1/tenants/{tenant_id}/networks/detail")["networks"]

    def show_network(self, tenant_id: str, network_id: str) -> dict:
        """Return one network's details.

        :raises nova.exception.NetworkNotFound: unknown or another tenant's.
        """
        path = f"/v1.1/tenants/{tenant_id}/networks/{network_id}"
        return self._call("GET", path, ids={"network": network_id})["network"]

    # --- ports -------------------------------------------------------------------

    def _port_path(self, tenant_id: str, network_id: str, port_id: str | None = None) -> str:
        path = f"/v1.1/tenants/{tenant_id}/networks/{network_id}/ports"
        return f"{path}/{port_id}" if port_id else path

    def list_ports(self, tenant_id: str, network_id: str, attachment: str | None = None):
        """Return the ids of a network's ports (only the one attached to ``attachment``)."""
        params = {"attachment": attachment} if attachment else None
        ports = self._call(
            "GET",
            self._port_path(tenant_id, network_id),
            params=params,
            ids={"network": network_id},
        )["ports"]
        return [port["id"] for port in ports]

    def create_port(self, tenant_id: str, network_id: str) -> str:
        """Create a port on a network and return its id."""
        body = {"port": {"state": "ACTIVE"}}
        created = self._call(
            "POST", self._port_path(tenant_id, network_id), body, ids={"network": network_id}
        )
        return created["port"]["id"]

    def show_port_detail(self, tenant_id: str, network_id: str, port_id: str) -> dict:
        """Return a port's details: state, attachment and ``configuration``.

        :raises nova.exception.PortNotFound: no such port on that network.
        """
        path = self._port_path(tenant_id, network_id, port_id) + "/detail"
        return self._call("GET", path, ids={"network": network_id, "port": port_id})["port"]

    def delete_port(self, tenant_id: str, network_id: str, port_id: str) -> None:
        """Delete an unattached port."""
        path = self._port_path(tenant_id, network_id, port_id)
        self._call("DELETE", path, ids={"network": network_id, "port": port_id})

    def attach(self, tenant_id: str, network_id: str, port_id: str, interface_id: str) -> None:
        """Attach ``interface_id`` (a VIF uuid) to a port: the logical binding.

        :raises nova.exception.PortInUse: the port has an attachment already.
        """
        path = self._port_path(tenant_id, network_id, port_id) + "/attachment"
        body = {"attachment": {"id": interface_id}}
        self._call("PUT", path, body, ids={"network": network_id, "port": port_id})

    def detach(self, tenant_id: str, network_id: str, port_id: str) -> None:
        """Remove a port's attachment."""
        path = self._port_path(tenant_id, network_id, port_id) + "/attachment"
        self._call("DELETE", path, ids={"network": network_id, "port": port_id})
