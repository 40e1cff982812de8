"""A real client, openstacksdk, against nova-all (auth type none, endpoint override)."""

from __future__ import annotations

import openstack
import requests

from tests.functional import test_nova_all


class OpenStackSDKTestCase(test_nova_all.NovaAllFixture):
    def setUp(self) -> None:
        super().setUp()
        # openstacksdk with auth type "none" sends X-Auth-Token: notused, which
        # noauth2 reads as user and project "notused".
        self.quantum_notused = self.quantum.replace("/tenants/demo", "/tenants/notused")
        self.conn = openstack.connect(
            auth_type="none",
            auth={"endpoint": self.api},
            compute_endpoint_override=self.api,
        )

    def make_port(self) -> tuple[str, str]:
        """Return ``(network id, port id)`` of a new port in project ``notused``."""
        quantum = self.quantum_notused
        net = requests.post(
            f"{quantum}/networks",
            json={"network": {"name": "web", "plugin": "openvswitch"}},
            headers={"X-Auth-Token": "admin:notused"},
            timeout=10,
        ).json()["network"]["id"]
        port = requests.post(
            f"{quantum}/networks/{net}/ports", headers={"X-Auth-Token": "notused"}, timeout=10
        ).json()["port"]["id"]
        return net, port

    def test_define_then_launch_through_the_sdk_session(self):
        net, port = self.make_port()
        conn = self.conn
        created = conn.compute.post(
            "/servers",
            json={
                "server": {
                    "name": "defined1",
                    "imageRef": "cirros",
                    "flavorRef": "1",
                    "networks": [{"port": port}],
                    "launch": False,
                }
            },
        )
        self.assertEqual(created.status_code, 202, created.text)
        server_id = created.json()["server"]["id"]
        self.assertEqual(conn.compute.get_server(server_id).status, "DEFINED")
        (vif,) = conn.compute.get(f"/servers/{server_id}/os-virtual-interfaces").json()[
            "virtual_interfaces"
        ]
        self.assertEqual(vif["OS-EXT-VIF-NET:net_id"], net)

        launched = conn.compute.post(f"/servers/{server_id}/action", json={"launch": None})
        self.assertEqual(launched.status_code, 202, launched.text)
        server = conn.compute.wait_for_server(
            conn.compute.get_server(server_id), status="ACTIVE", wait=60
        )
        self.assertEqual(server.status, "ACTIVE")
        again = conn.compute.post(
            f"/servers/{server_id}/action", json={"launch": None}, raise_exc=False
        )
        self.assertEqual(again.status_code, 409)
        self.assertIn("active", again.json()["conflictingRequest"]["message"])
        conn.compute.delete_server(server)
        conn.compute.wait_for_delete(server, wait=60)

    def test_create_list_show_vifs_delete(self):
        quantum = self.quantum_notused
        net, port = self.make_port()
        conn = self.conn
        server = conn.compute.create_server(
            name="sdk1", image_id="cirros", flavor_id="1", networks=[{"port": port}]
        )
        server = conn.compute.wait_for_server(server, status="ACTIVE", wait=60)
        self.assertEqual(server.status, "ACTIVE")
        self.assertEqual([s.name for s in conn.compute.servers()], ["sdk1"])
        self.assertEqual(conn.compute.get_server(server.id).name, "sdk1")

        vifs = conn.compute.get(f"/servers/{server.id}/os-virtual-interfaces").json()
        (vif,) = vifs["virtual_interfaces"]
        self.assertEqual(vif["OS-EXT-VIF-NET:net_id"], net)

        conn.compute.delete_server(server)
        conn.compute.wait_for_delete(server, wait=60)
        attachment = requests.get(
            f"{quantum}/networks/{net}/ports/{port}/attachment",
            headers={"X-Auth-Token": "notused"},
            timeout=10,
        ).json()
        self.assertEqual(attachment, {"attachment": {}})

    def test_flavor_and_server_queries_as_the_sdk_sends_them(self):
        conn = self.conn
        # The proxy and the cloud layer list with is_public (None, True); both
        # were 400 while list queries were strict.
        self.assertEqual([f.id for f in conn.compute.flavors()], ["1", "2", "3", "4", "5"])
        self.assertEqual(conn.compute.find_flavor("m1.small").id, "2")
        # (Extra specs come with their own route, not served here yet.)
        self.assertEqual(conn.get_flavor("m1.tiny", get_extra=False).id, "1")
        self.assertEqual(
            [f.id for f in conn.compute.flavors(min_ram=2048, sort_key="memory_mb")],
            ["2", "3", "4", "5"],
        )
        server = conn.compute.create_server(
            name="q1", image_id="cirros", flavor_id="1", networks="none"
        )
        self.assertTrue(server.admin_password)
        listed = list(conn.compute.servers(name="^q", status="BUILD", deleted=False))
        listed += list(conn.compute.servers(name="^q", status="ACTIVE", deleted=False))
        self.assertEqual([s.name for s in listed], ["q1"])
        conn.compute.delete_server(server)
        conn.compute.wait_for_delete(server, wait=60)
        # A microversion beyond the claimed one is refused, as Nova refuses it.
        refused = requests.get(
            f"{self.api}/servers",
            headers={"X-Auth-Token": "notused", "OpenStack-API-Version": "compute 2.90"},
            timeout=10,
        )
        self.assertEqual(refused.status_code, 406)
        self.assertEqual(refused.json()["computeFault"]["code"], 406)
