"""The agent's client of the Quantum API (an admin identity: it sees every tenant's ports)."""

from __future__ import annotations

import logging
from typing import NamedTuple

import requests

LOG = logging.getLogger(__name__)


class ClientError(Exception):
    """The Quantum API could not be reached or refused a call."""


class Attachment(NamedTuple):
    """An interface-id attached to a port (``GET /v1.1/attachments``)."""

    id: str
    port_id: str
    network_id: str
    tenant_id: str
    op_status: str


class QuantumClient:
    """Calls the Quantum v1.1 API at ``url`` with token ``token``."""

    def __init__(self, url: str, token: str, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers.update({"X-Auth-Token": token, "Accept": "application/json"})

    def _call(self, method: str, path: str, **kwargs) -> requests.Response:
        try:
            response = self.session.request(method, self.url + path, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            raise ClientError(f"{method} {path}: {exc}") from exc
        if response.status_code >= 400 and response.status_code != 404:
            raise ClientError(f"{method} {path}: {response.status_code} {response.text[:200]}")
        return response

    def attachments(self) -> dict[str, Attachment]:
        """Return every attachment (all tenants) by interface-id."""
        response = self._call("GET", "/v1.1/attachments")
        if response.status_code == 404:
            raise ClientError("GET /v1.1/attachments: 404 (a Quantum without the agents' lookup)")
        return {
            item["id"]: Attachment(
                item["id"],
                item["port_id"],
                item["network_id"],
                item["tenant_id"],
                item["op-status"],
            )
            for item in response.json()["attachments"]
        }

    def _port_path(self, attachment: Attachment) -> str:
        return (
            f"/v1.1/tenants/{attachment.tenant_id}/networks/{attachment.network_id}"
            f"/ports/{attachment.port_id}"
        )

    def port_configuration(self, attachment: Attachment) -> dict[str, str] | None:
        """Return the configuration of ``attachment``'s port (None: the port is gone)."""
        response = self._call("GET", self._port_path(attachment) + "/detail")
        if response.status_code == 404:
            return None
        return response.json()["port"].get("configuration", {})

    def set_op_status(self, attachment: Attachment, op_status: str) -> bool:
        """Set the op-status of ``attachment``'s port; False when the port is gone."""
        body = {"port": {"op-status": op_status}}
        response = self._call("PUT", self._port_path(attachment), json=body)
        return response.status_code != 404
