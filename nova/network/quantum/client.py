"""HTTP client of the Quantum API v1.1, as Nova uses it."""

from __future__ import annotations

from collections.abc import Callable

from nova import exception
from nova import keystone
from nova.network import http


class QuantumClient(http.JSONClient):
    """Calls the Quantum API v1.1 at ``url`` with the token Nova was given."""

    service = "Quantum"
    faults = {
        (404, "networkNotFound"): lambda ids, msg: exception.NetworkNotFound(
            network_id=ids.get("network")
        ),
        (404, "portNotFound"): lambda ids, msg: exception.PortNotFound(port_id=ids.get("port")),
        (409, "alreadyAttached"): lambda ids, msg: exception.PortInUse(port_id=ids.get("port")),
        (409, "portInUse"): lambda ids, msg: exception.PortInUse(port_id=ids.get("port")),
        (409, "networkInUse"): lambda ids, msg: exception.Conflict(reason=msg),
        (400, "requestedStateInvalid"): lambda ids, msg: exception.Invalid(reason=msg),
        (400, "malformedRequestBody"): lambda ids, msg: exception.Invalid(reason=msg),
        (400, "invalidIpForNetwork"): lambda ids, msg: exception.Invalid(reason=msg),
        (400, "invalidIpForSubnet"): lambda ids, msg: exception.Invalid(reason=msg),
        (409, "ipAddressInUse"): lambda ids, msg: exception.FixedIpAlreadyInUse(
            address=ids.get("fixed_ip"), network_id=ids.get("network")
        ),
        (409, "ipAddressGenerationFailure"): lambda ids, msg: exception.NoMoreFixedIps(
            network_id=ids.get("network")
        ),
    }

    def __init__(
        self,
        url: str,
        token: str,
        timeout: float = 30.0,
        connect_retries: int = 3,
        app: Callable | None = None,
        auth: keystone.ServiceAuth | None = None,
    ):
        """:param app: the service's WSGI app, when it runs in this process (embedded).
        :param auth: the token of each call (Keystone); None: always ``token``.
        """
        super().__init__(url, {"X-Auth-Token": token}, timeout, connect_retries, app=app, auth=auth)

    # --- networks ----------------------------------------------------------------

    def list_networks(self, tenant_id: str) -> list[dict]:
        """Return the tenant's networks with their details."""
        return self.call("GET", f"/v1.1/tenants/{tenant_id}/networks/detail")["networks"]

    def list_network_ids(self, tenant_id: str) -> list[str]:
        """Return the ids of the tenant's networks."""
        networks = self.call("GET", f"/v1.1/tenants/{tenant_id}/networks")["networks"]
        return [network["id"] for network in networks]

    def show_network(self, tenant_id: str, network_id: str) -> dict:
        """Return one network's details.

        :raises nova.exception.NetworkNotFound: unknown or another tenant's.
        """
        path = f"/v1.1/tenants/{tenant_id}/networks/{network_id}"
        return self.call("GET", path, ids={"network": network_id})["network"]

    def show_network_detail(
        self, tenant_id: str, network_id: str, timeout: float | None = None
    ) -> dict:
        """Return one network's details with its ports' (``fixed_ip``, attachment): one call.

        :param timeout: seconds to wait for the reply (default: the client's).
        :raises nova.exception.NetworkNotFound: unknown or another tenant's.
        """
        path = f"/v1.1/tenants/{tenant_id}/networks/{network_id}/detail"
        return self.call("GET", path, ids={"network": network_id}, timeout=timeout)["network"]

    # --- ports -------------------------------------------------------------------

    def _port_path(self, tenant_id: str, network_id: str, port_id: str | None = None) -> str:
        path = f"/v1.1/tenants/{tenant_id}/networks/{network_id}/ports"
        return f"{path}/{port_id}" if port_id else path

    def create_port(self, tenant_id: str, network_id: str, fixed_ip: str | None = None) -> str:
        """Create a port on a network (with ``fixed_ip`` on its subnet) and return its id.

        :raises nova.exception.FixedIpAlreadyInUse: ``fixed_ip`` is taken.
        :raises nova.exception.NoMoreFixedIps: the subnet has no address left.
        :raises nova.exception.Invalid: ``fixed_ip`` is not an address of the subnet.
        """
        body: dict = {"port": {"state": "ACTIVE"}}
        if fixed_ip:
            body["port"]["fixed_ip"] = fixed_ip
        created = self.call(
            "POST",
            self._port_path(tenant_id, network_id),
            body,
            ids={"network": network_id, "fixed_ip": fixed_ip},
        )
        return created["port"]["id"]

    def show_port_detail(self, tenant_id: str, network_id: str, port_id: str) -> dict:
        """Return a port's details: state, attachment and ``configuration``.

        :raises nova.exception.PortNotFound: no such port on that network.
        """
        path = self._port_path(tenant_id, network_id, port_id) + "/detail"
        return self.call("GET", path, ids={"network": network_id, "port": port_id})["port"]

    def delete_port(self, tenant_id: str, network_id: str, port_id: str) -> None:
        """Delete an unattached port."""
        path = self._port_path(tenant_id, network_id, port_id)
        self.call("DELETE", path, ids={"network": network_id, "port": port_id})

    def attach(self, tenant_id: str, network_id: str, port_id: str, interface_id: str) -> None:
        """Attach ``interface_id`` (a VIF uuid) to a port: the logical binding.

        :raises nova.exception.PortInUse: the port has an attachment already.
        """
        path = self._port_path(tenant_id, network_id, port_id) + "/attachment"
        body = {"attachment": {"id": interface_id}}
        self.call("PUT", path, body, ids={"network": network_id, "port": port_id})

    def detach(self, tenant_id: str, network_id: str, port_id: str) -> None:
        """Remove a port's attachment."""
        path = self._port_path(tenant_id, network_id, port_id) + "/attachment"
        self.call("DELETE", path, ids={"network": network_id, "port": port_id})
