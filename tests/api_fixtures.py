"""The compute API in-process, on a fresh SQLite database, with the real
reference Quantum service on a loopback socket as its network backend."""

from __future__ import annotations

import json
from unittest import mock

import requests
import sqlalchemy as sa
import webob

import nova.conf
from nova.api.openstack import router
from nova.db import session as db_session
from tests import databases
from tests import quantum_fixtures

CONF = nova.conf.CONF


class APITestCase(databases.SchemaTestCase):
    """``self.app`` is the compute API; ``self.quantum`` the network service."""

    def setUp(self) -> None:
        super().setUp()
        self.quantum = quantum_fixtures.run_on_socket(self)
        for name, value, group in (
            ("url", self.quantum.url, "quantum"),
            ("backend", "quantum", "network"),
        ):
            CONF.set_override(name, value, group=group)
            self.addCleanup(CONF.clear_override, name, group=group)
        scheduler = mock.patch("nova.scheduler.rpcapi.SchedulerAPI.run_instances")
        self.scheduled = scheduler.start()
        self.addCleanup(scheduler.stop)
        self.app = router.APIRouter()

    # --- requests --------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        body=None,
        token: str | None = "alice:demo",
        content_type: str = "application/json",
    ) -> webob.Response:
        request = webob.Request.blank(path, method=method)
        if token is not None:
            request.headers["X-Auth-Token"] = token
        if body is not None:
            request.content_type = content_type
            request.body = body if isinstance(body, bytes) else json.dumps(body).encode()
        return request.get_response(self.app)

    def create_server(self, token: str = "alice:demo", expect: int = 202, **values) -> str:
        server = {"name": "vm", "imageRef": "cirros", "flavorRef": "1", **values}
        response = self.request("POST", "/v2.1/servers", {"server": server}, token=token)
        self.assertEqual(response.status_int, expect, response.text)
        return response.json["server"]["id"] if expect == 202 else response

    # --- the network service, driven as an admin -------------------------------------

    def quantum_call(self, method: str, path: str, body=None, tenant: str = "demo"):
        response = requests.request(
            method,
            f"{self.quantum.url}/v1.1/tenants/{tenant}{path}",
            json=body,
            headers={"X-Auth-Token": "admin:admin"},
            timeout=10,
        )
        self.assertLess(response.status_code, 300, response.text)
        return response.json() if response.content else None

    def quantum_network(self, tenant: str = "demo", **values) -> str:
        values.setdefault("name", "net")
        body = {"network": values}
        return self.quantum_call("POST", "/networks", body, tenant)["network"]["id"]

    def quantum_port(self, network_id: str, tenant: str = "demo") -> str:
        return self.quantum_call("POST", f"/networks/{network_id}/ports", {}, tenant)["port"]["id"]

    def attachment(self, network_id: str, port_id: str, tenant: str = "demo") -> dict:
        path = f"/networks/{network_id}/ports/{port_id}/attachment"
        return self.quantum_call("GET", path, tenant=tenant)["attachment"]

    def quantum_ports(self, network_id: str, tenant: str = "demo") -> list[str]:
        return [
            p["id"]
            for p in self.quantum_call("GET", f"/networks/{network_id}/ports", tenant=tenant)[
                "ports"
            ]
        ]

    # --- the database ----------------------------------------------------------------

    def count(self, table: str, live: bool = True) -> int:
        where = " WHERE deleted = 0" if live else ""
        with db_session.get_engine().connect() as connection:
            return connection.execute(sa.text(f"SELECT COUNT(*) FROM {table}{where}")).scalar()
