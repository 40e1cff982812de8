"""HTTP client of the Neutron API v2.0, as Nova uses it."""

from __future__ import annotations

import requests

from nova import exception
from nova import keystone
from nova.network import http


class NeutronClient(http.JSONClient):
    """Calls Neutron v2.0 at ``url`` (``token``: X-Auth-Token, None for noauth)."""

    service = "Neutron"
    faults = {
        (404, "PortNotFound"): lambda ids, msg: exception.PortNotFound(port_id=ids.get("port")),
        (404, "NetworkNotFound"): lambda ids, msg: exception.NetworkNotFound(
            network_id=ids.get("network")
        ),
        (409, "MacAddressInUse"): lambda ids, msg: exception.Conflict(reason=msg),
        (409, "IpAddressInUse"): lambda ids, msg: exception.Conflict(reason=msg),
        (409, "IpAddressGenerationFailure"): lambda ids, msg: exception.Conflict(reason=msg),
        (400, "InvalidInput"): lambda ids, msg: exception.Invalid(reason=msg),
        (400, "HTTPBadRequest"): lambda ids, msg: exception.Invalid(reason=msg),
    }

    def __init__(
        self,
        url: str,
        token: str | None,
        timeout: float = 30.0,
        connect_retries: int = 3,
        auth: keystone.ServiceAuth | None = None,
    ):
        """:param auth: the token of each call (Keystone); None: always ``token``."""
        headers = {"X-Auth-Token": token} if token else {}
        super().__init__(url, headers, timeout, connect_retries, auth=auth)

    @staticmethod
    def fault_of(response: requests.Response | http.InProcessResponse) -> tuple[str, str]:
        """Neutron names its faults in ``{"NeutronError": {"type": ..., "message": ...}}``."""
        try:
            error = response.json()["NeutronError"]
            return error.get("type", ""), error.get("message", response.text)
        except (ValueError, KeyError, TypeError):
            return "", response.text[:200]

    def show_network(self, network_id: str) -> dict:
        """Return a network.

        :raises nova.exception.NetworkNotFound: no such network.
        """
        path = f"/v2.0/networks/{network_id}"
        return self.call("GET", path, ids={"network": network_id})["network"]

    def list_networks(self, **filters: str | list[str]) -> list[dict]:
        """Return the networks matching ``filters`` (e.g. ``project_id``, ``shared``)."""
        return self.call("GET", "/v2.0/networks", params=filters)["networks"]

    def list_ports(self, **filters: str | list[str]) -> list[dict]:
        """Return the ports matching ``filters`` (a list value: any of them; ``fields``)."""
        return self.call("GET", "/v2.0/ports", params=filters)["ports"]

    def show_port(self, port_id: str) -> dict:
        """Return a port, with its binding attributes.

        :raises nova.exception.PortNotFound: no such port.
        """
        return self.call("GET", f"/v2.0/ports/{port_id}", ids={"port": port_id})["port"]

    def create_port(self, values: dict) -> dict:
        """Create a port and return it."""
        ids = {"network": values.get("network_id")}
        return self.call("POST", "/v2.0/ports", {"port": values}, ids=ids)["port"]

    def update_port(self, port_id: str, values: dict) -> dict:
        """Update a port (e.g. bind it) and return it as Neutron now has it."""
        path = f"/v2.0/ports/{port_id}"
        return self.call("PUT", path, {"port": values}, ids={"port": port_id})["port"]

    def delete_port(self, port_id: str) -> None:
        """Delete a port."""
        self.call("DELETE", f"/v2.0/ports/{port_id}", ids={"port": port_id})
