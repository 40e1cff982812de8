"""python-openstackclient, unmodified, drives nova-all (the README's commands).

``server create --nic port-id=…`` looks the port up in the Neutron API, which
the embedded Quantum v1.1 service does not speak: that command is run against
nova-all on the neutron backend, in tests/compat/test_neutron.py.

Every command is the real ``openstack`` CLI of the clients' virtualenv with
``-f json``; the outcome is checked in its output, the compute API and the
cloud's database.
"""

from __future__ import annotations

import os

from tests.compat import base


class OpenStackClientTestCase(base.ClientTestCase):
    def test_flavor_list_and_show(self):
        flavors = {f["ID"]: f for f in self.openstack("flavor", "list")}
        self.assertEqual(flavors["1"]["Name"], "m1.tiny")
        self.assertEqual(flavors["1"]["RAM"], 512)
        tiny = self.openstack("flavor", "show", "m1.tiny")
        self.assertEqual((tiny["id"], tiny["vcpus"]), ("1", 1))
        self.assertEqual(self.openstack("flavor", "show", "1")["name"], "m1.tiny")

    def test_server_list_show_delete_on_a_quantum_port(self):
        net, port = self.make_port()
        created = self.call(
            "POST",
            "/servers",
            {
                "server": {
                    "name": "vm1",
                    "imageRef": "cirros",
                    "flavorRef": "1",
                    "networks": [{"port": port}],
                }
            },
        )
        self.assertEqual(created.status_code, 202, created.text)
        server_id = created.json()["server"]["id"]
        self.wait_status(server_id, "ACTIVE")

        listed = self.openstack("server", "list")
        self.assertEqual(
            [(s["ID"], s["Name"], s["Status"]) for s in listed], [(server_id, "vm1", "ACTIVE")]
        )
        shown = self.openstack("server", "show", "vm1")
        self.assertEqual((shown["id"], shown["status"]), (server_id, "ACTIVE"))

        self.openstack_plain("server", "delete", "--wait", "vm1")
        self.assertEqual(self.call("GET", f"/servers/{server_id}").status_code, 404)
        self.assertEqual(self.openstack("server", "list"), [])
        attachment = self.http.get(
            f"{self.quantum_project}/networks/{net}/ports/{port}/attachment",
            headers={"X-Auth-Token": base.PROJECT},
            timeout=30,
        ).json()
        self.assertEqual(attachment, {"attachment": {}})  # the user's port: kept, detached

    def test_keypair_create_list_delete(self):
        private = self.openstack_plain("keypair", "create", "generated")
        self.assertIn("PRIVATE KEY", private)
        public = os.path.join(self.state, "id_test.pub")
        with open(public, "w", encoding="utf-8") as handle:
            handle.write(
                "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDy9kGhD6bXzMkhYUtMmCrXq5XfQO2iTWxgvbqsG0n0E"
                " test@compat\n"
            )
        imported = self.openstack("keypair", "create", "--public-key", public, "imported")
        self.assertEqual(imported["name"], "imported")
        self.assertEqual(
            sorted(k["Name"] for k in self.openstack("keypair", "list")), ["generated", "imported"]
        )
        self.assertEqual(self.openstack("keypair", "show", "imported")["name"], "imported")
        self.openstack_plain("keypair", "delete", "generated", "imported")
        self.assertEqual(self.openstack("keypair", "list"), [])

    def test_limits_quota_and_availability_zones(self):
        limits = {
            row["Name"]: row["Value"] for row in self.openstack("limits", "show", "--absolute")
        }
        self.assertEqual(limits["totalInstancesUsed"], 0)
        self.assertGreater(limits["maxTotalInstances"], 0)

        # `openstack quota show` finds the project in Keystone (none here): the SDK's
        # proxy asks Nova directly.
        quota = self.python(
            "import json, openstack\n"
            "conn = openstack.connect(cloud='nova-l2')\n"
            f"print(json.dumps(conn.compute.get_quota_set({base.PROJECT!r}).to_dict()))\n"
        )
        self.assertEqual(quota["instances"], limits["maxTotalInstances"])

        zones = self.openstack("availability", "zone", "list", "--compute")
        self.assertEqual(
            [(z["Zone Name"], z["Zone Status"]) for z in zones], [("nova", "available")]
        )
