"""python-openstackclient, unmodified, drives nova-all (the README's commands).

``server create --nic port-id=…`` looks the port up in the Neutron API
(openstacksdk's ``find_port``): the clouds.yaml points the network endpoint
at the embedded Quantum, whose read-only Neutron v2.0 view of the tenant's
ports answers it, and the image endpoint at the Glance test server
(``start_glance``), which nova-all checks images against too.

Every command is the real ``openstack`` CLI of the clients' virtualenv with
``-f json``; the outcome is checked in its output, the compute API and the
cloud's database.
"""

from __future__ import annotations

import os
import textwrap

from tests.compat import base

#: Image ``argv[1]`` found by name through Nova's (deprecated) image proxy, by openstacksdk.
SDK_PROXY_IMAGE = """
import json, sys, warnings
import openstack
warnings.simplefilter("ignore")
conn = openstack.connect(cloud="nova-l2")
image = conn.compute.find_image(sys.argv[1], ignore_missing=False)
image = conn.compute.get_image(image.id)
print(json.dumps({"id": image.id, "min_ram": image.min_ram, "status": image.status,
                  "metadata": image.metadata}))
"""

#: nova-all's compute host, and the clouds.yaml's cloud of an admin of the same project.
HOST = "allinone"
ADMIN_CLOUD = "nova-l2-admin"


class OpenStackClientTestCase(base.ClientTestCase):
    uses_glance = True

    def setUp(self) -> None:
        # Ports: the embedded Quantum's read-only Neutron view (quantum/api/ports_v2.py).
        super().setUp()
        self.neutron_view = f"{self.nova_all.quantum_url}/v2.0"

    def clouds_text(self) -> str:
        """The README's clouds.yaml: with the network (and image) endpoints."""
        return super().clouds_text() + (
            f"    network_endpoint_override: {self.nova_all.quantum_url}/\n"
        )

    def test_image_create_and_boot_by_name(self):
        data = os.urandom(4096)
        path = os.path.join(self.state, "tiny.img")
        with open(path, "wb") as handle:
            handle.write(data)
        name = f"tiny-{os.getpid()}-{self.id().rsplit('.', 1)[-1]}"
        image = self.openstack(
            "image", "create", "--file", path, "--disk-format", "raw",
            "--container-format", "bare", "--property", "hw_disk_bus=virtio", name,
        )  # fmt: skip
        self.addCleanup(self.http.delete, f"{self.glance}/v2/images/{image['id']}", timeout=60)
        self.assertEqual((image["name"], image["status"]), (name, "active"))
        listed = [i["Name"] for i in self.openstack("image", "list")]
        self.assertIn(name, listed)

        server = self.openstack(
            "server", "create", "--image", name, "--flavor", "m1.tiny", "--wait", "vm"
        )
        self.assertEqual(server["status"], "ACTIVE")
        shown = self.call("GET", f"/servers/{server['id']}").json()["server"]
        self.assertEqual(shown["image"]["id"], image["id"])
        # Compute cached the bits it fetched from Glance, verified.
        with open(os.path.join(self.state, "images", "_base", image["id"]), "rb") as handle:
            self.assertEqual(handle.read(), data)
        # Nova's image proxy: openstacksdk's compute proxy finds the image by name.
        found = self.python(SDK_PROXY_IMAGE, name)
        # (openstacksdk adds owner_specified.openstack.* properties of its own.)
        self.assertEqual(found["metadata"]["hw_disk_bus"], "virtio")
        del found["metadata"]
        self.assertEqual(found, {"id": image["id"], "min_ram": 0, "status": "ACTIVE"})
        self.openstack_plain("server", "delete", "--wait", "vm")

        # An unknown image: the CLI stops before Nova.
        self.openstack_plain(
            "server", "create", "--image", "no-such-image", "--flavor", "m1.tiny", "vm2", expect=1
        )
        self.assertIn("No Image found for no-such-image", self.last_stderr)

    def test_flavor_list_and_show(self):
        flavors = {f["ID"]: f for f in self.openstack("flavor", "list")}
        self.assertEqual(flavors["1"]["Name"], "m1.tiny")
        self.assertEqual(flavors["1"]["RAM"], 512)
        tiny = self.openstack("flavor", "show", "m1.tiny")
        self.assertEqual((tiny["id"], tiny["vcpus"]), ("1", 1))
        self.assertEqual(self.openstack("flavor", "show", "1")["name"], "m1.tiny")

    def test_server_create_on_a_quantum_port_list_vifs_delete(self):
        net, port = self.make_port(subnet={"cidr": "10.20.0.0/24"})
        server = self.openstack(
            "server",
            "create",
            "--image",
            self.image["name"],
            "--flavor",
            "m1.tiny",
            "--nic",
            f"port-id={port}",
            "--wait",
            "vm",
        )
        self.assertEqual((server["name"], server["status"]), ("vm", "ACTIVE"))
        server_id = server["id"]
        attachment = f"{self.quantum_project}/networks/{net}/ports/{port}/attachment"
        vif_id = self.quantum_get(attachment)["attachment"]["id"]
        self.assertEqual(
            self.quantum_get(f"{self.neutron_view}/ports/{port}")["port"]["status"], "ACTIVE"
        )

        listed = self.openstack("server", "list")
        self.assertEqual(
            [(s["ID"], s["Name"], s["Status"]) for s in listed], [(server_id, "vm", "ACTIVE")]
        )
        shown = self.openstack("server", "show", "vm")
        self.assertEqual((shown["id"], shown["status"]), (server_id, "ACTIVE"))
        # The port's fixed IP, from Quantum alone (the CLI's form of ``addresses``).
        self.assertIn("web", str(shown["addresses"]))
        self.assertIn("10.20.0.3", str(shown["addresses"]))
        self.assertIn("10.20.0.3", str(listed[0]))
        # The VIF list (no openstack command): the API, as the README's curl, and novaclient 9.1.3.
        api_vifs = self.call("GET", f"/servers/{server_id}/os-virtual-interfaces").json()
        self.assertEqual([v["id"] for v in api_vifs["virtual_interfaces"]], [vif_id])
        vifs = self.python(base.NOVACLIENT_VIFS, server_id, old_novaclient=True)["vifs"]
        self.assertEqual([v["id"] for v in vifs], [vif_id])  # the port's attachment

        # Hot-plug another port, and unplug it (os-interface POST, DELETE).
        _net2, port2 = self.make_port()
        self.openstack_plain("server", "add", "port", "vm", port2)
        interfaces = self.call("GET", f"/servers/{server_id}/os-interface").json()
        self.assertEqual([i["port_id"] for i in interfaces["interfaceAttachments"]], [port, port2])
        self.openstack_plain("server", "remove", "port", "vm", port2)
        interfaces = self.call("GET", f"/servers/{server_id}/os-interface").json()
        self.assertEqual([i["port_id"] for i in interfaces["interfaceAttachments"]], [port])

        self.openstack_plain("server", "delete", "--wait", "vm")
        self.assertEqual(self.call("GET", f"/servers/{server_id}").status_code, 404)
        self.assertEqual(self.openstack("server", "list"), [])
        # The user's port: kept, detached.
        self.assertEqual(self.quantum_get(attachment), {"attachment": {}})
        self.assertEqual(
            self.quantum_get(f"{self.neutron_view}/ports/{port}")["port"]["status"], "DOWN"
        )

    def test_server_create_refuses_another_projects_port(self):
        other = self.quantum.replace("/tenants/demo", "/tenants/other")
        admin = {"X-Auth-Token": "admin:other"}
        net = self.http.post(
            f"{other}/networks", json={"network": {"name": "theirs"}}, headers=admin, timeout=30
        ).json()["network"]["id"]
        port = self.http.post(f"{other}/networks/{net}/ports", headers=admin, timeout=30).json()[
            "port"
        ]["id"]
        # Not found for this project, as in Quantum v1.1: the CLI stops before Nova.
        missing = self.quantum_get(f"{self.neutron_view}/ports/{port}", expect=404)
        self.assertIn("portNotFound", missing)
        self.openstack_plain(
            "server",
            "create",
            "--image",
            self.image["name"],
            "--flavor",
            "m1.tiny",
            "--nic",
            f"port-id={port}",
            "vm2",
            expect=1,
        )
        self.assertIn(f"No Port found for {port}", self.last_stderr)
        self.assertEqual(self.openstack("server", "list"), [])
        attachment = f"{other}/networks/{net}/ports/{port}/attachment"
        self.assertEqual(self.quantum_get(attachment, token="admin:other"), {"attachment": {}})

    def quantum_get(self, url: str, token: str = base.PROJECT, expect: int = 200) -> dict:
        """GET ``url`` of the embedded Quantum as ``token``; return the body."""
        response = self.http.get(url, headers={"X-Auth-Token": token}, timeout=30)
        self.assertEqual(response.status_code, expect, response.text)
        return response.json()

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
        self.assertEqual(limits["total_instances_used"], 0)
        # OSC shows openstacksdk's names; nova-all runs with the tests' quotas (-1: unlimited).
        self.assertEqual(limits["max_total_instances"], -1)

        # `openstack quota show` finds the project in Keystone (none here): the SDK's
        # proxy asks Nova directly.
        quota = self.python(
            "import json, openstack\n"
            "conn = openstack.connect(cloud='nova-l2')\n"
            f"print(json.dumps(conn.compute.get_quota_set({base.PROJECT!r}).to_dict()))\n"
        )
        self.assertEqual(quota["instances"], limits["max_total_instances"])

        zones = self.openstack("availability", "zone", "list", "--compute")
        self.assertEqual(
            [(z["Zone Name"], z["Zone Status"]) for z in zones], [("nova", "available")]
        )


class OperatorCommandsTestCase(base.ClientTestCase):
    """The operator's commands as an admin: services, hypervisors, a server's state reset."""

    def clouds_text(self) -> str:
        # An admin of the same project: noauth2 reads the token "admin:<project>" so.
        return super().clouds_text() + textwrap.indent(
            textwrap.dedent(
                f"""\
                {ADMIN_CLOUD}:
                  auth_type: admin_token
                  auth:
                    endpoint: {self.api}
                    token: admin:{base.PROJECT}
                  compute_endpoint_override: {self.api}
                  compute_api_version: "2.1"
                  identity_api_version: "3"
                """
            ),
            "  ",
        )

    def admin(self, *args: str, expect: int = 0):
        return self.openstack("--os-cloud", ADMIN_CLOUD, *args, expect=expect)

    def admin_plain(self, *args: str, expect: int = 0) -> str:
        return self.openstack_plain("--os-cloud", ADMIN_CLOUD, *args, expect=expect)

    def create_server(self, name: str) -> str:
        body = {"server": {"name": name, "imageRef": self.image_ref, "flavorRef": "1"}}
        created = self.call("POST", "/servers", body)
        self.assertEqual(created.status_code, 202, created.text)
        return created.json()["server"]["id"]

    def test_compute_service_list_and_set(self):
        computes = self.admin("compute", "service", "list", "--service", "nova-compute")
        self.assertEqual(
            [(s["Host"], s["Zone"], s["Status"], s["State"]) for s in computes],
            [(HOST, "nova", "enabled", "up")],
        )
        self.admin_plain(
            "compute", "service", "set", "--disable", "--disable-reason", "maintenance",
            HOST, "nova-compute",
        )  # fmt: skip
        (compute,) = self.admin("compute", "service", "list", "--service", "nova-compute", "--long")
        self.assertEqual(
            (compute["Status"], compute["Disabled Reason"]), ("disabled", "maintenance")
        )
        # The scheduler's ComputeFilter keeps new servers off the disabled host.
        refused = self.wait_status(self.create_server("nowhere"), "ERROR")
        self.assertIn("No valid host was found", refused["fault"]["message"])
        self.admin_plain("compute", "service", "set", "--enable", HOST, "nova-compute")
        self.wait_status(self.create_server("somewhere"), "ACTIVE")
        # Not for members: the CLI reports the API's 403.
        self.openstack_plain("compute", "service", "list", expect=1)
        self.assertIn("os_compute_api:os-services:list", self.last_stderr)

    def test_hypervisor_list_and_show(self):
        (hypervisor,) = self.admin("hypervisor", "list")
        self.assertEqual((hypervisor["Hypervisor Hostname"], hypervisor["State"]), (HOST, "up"))
        for name_or_id in (HOST, str(hypervisor["ID"])):
            with self.subTest(hypervisor=name_or_id):
                shown = self.admin("hypervisor", "show", name_or_id)
                self.assertEqual(
                    (shown["id"], shown["hypervisor_hostname"], shown["service_host"]),
                    (hypervisor["ID"], HOST, HOST),
                )
                self.assertEqual((shown["status"], shown["state"]), ("enabled", "up"))
                # From os-hypervisors/{id}/uptime: the host's `uptime`, parsed by the CLI.
                self.assertIn("load_average", shown)

    def test_server_set_state(self):
        server_id = self.create_server("stuck")
        self.wait_status(server_id, "ACTIVE")
        # A member may not: the policy says admins only.
        self.openstack_plain("server", "set", "--state", "error", "--auto-approve", server_id,
                             expect=1)  # fmt: skip
        self.assertIn("os_compute_api:os-admin-actions:reset_state", self.last_stderr)
        self.assertEqual(self.openstack("server", "show", server_id)["status"], "ACTIVE")

        self.admin_plain("server", "set", "--state", "error", "--auto-approve", server_id)
        self.assertEqual(self.openstack("server", "show", server_id)["status"], "ERROR")
        self.admin_plain("server", "set", "--state", "active", "--auto-approve", server_id)
        self.assertEqual(self.openstack("server", "show", server_id)["status"], "ACTIVE")
        self.openstack_plain("server", "delete", "--wait", server_id)
