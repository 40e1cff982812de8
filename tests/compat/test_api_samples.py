"""Nova's own request samples (tests/compat/api_samples, see SOURCE.md) sent as they are.

Nova publishes each as a body its API accepts at 2.1; nova-all must accept
it too (202 for a create, 200 otherwise) and show what it stored.
"""

from __future__ import annotations

import json
import os

from tests.compat import base

SAMPLES = os.path.join(os.path.dirname(__file__), "api_samples")
ADMIN = f"admin:{base.PROJECT}"


def sample(path: str):
    """Return the sample ``path`` (``servers/server-create-req.json``) as JSON."""
    with open(os.path.join(SAMPLES, path), encoding="utf-8") as handle:
        return json.load(handle)


class APISamplesTestCase(base.ClientTestCase):
    def send(self, method: str, path: str, body, expect: int, token: str = base.PROJECT):
        response = self.call(method, path, body, token=token)
        self.assertEqual(response.status_code, expect, f"{method} {path}: {response.text[:1000]}")
        return response.json() if response.content else None

    def test_server_create_samples(self):
        for name in (
            "servers/server-create-req.json",
            "os-multiple-create/multiple-create-post-req.json",
            "os-multiple-create/multiple-create-no-resv-post-req.json",
        ):
            with self.subTest(sample=name):
                body = sample(name)
                answer = self.send("POST", "/servers", body, 202)
                if "reservation_id" in answer:
                    continue  # return_reservation_id: no server id to read back
                server = self.send("GET", f"/servers/{answer['server']['id']}", None, 200)
                # Several servers are named "<name>-<n>", as Nova names them.
                self.assertIn(
                    server["server"]["name"],
                    {body["server"]["name"], *(f"{body['server']['name']}-{n}" for n in (1, 2, 3))},
                )
                self.assertEqual(server["server"]["metadata"], body["server"]["metadata"])

    def settled_server(self) -> str:
        """Return the id of a new ACTIVE server without NICs."""
        created = self.send(
            "POST",
            "/servers",
            {"server": {"name": "s", "imageRef": "cirros", "flavorRef": "1", "networks": "none"}},
            202,
        )
        sid = created["server"]["id"]
        self.wait_status(sid, "ACTIVE")  # Nova changes metadata of settled servers only
        return sid

    def test_server_update_sample(self):
        sid = self.settled_server()
        body = sample("servers/server-update-req.json")
        updated = self.send("PUT", f"/servers/{sid}", body, 200)["server"]
        self.assertEqual(
            (updated["name"], updated["accessIPv4"], updated["accessIPv6"]),
            ("new-server-test", "4.3.2.1", "80fe::"),
        )

    def test_reset_server_state_sample(self):
        sid = self.settled_server()
        self.send(
            "POST", f"/servers/{sid}/action", {"os-resetState": {"state": "error"}}, 202, ADMIN
        )
        self.assertEqual(
            self.send("GET", f"/servers/{sid}", None, 200)["server"]["status"], "ERROR"
        )
        body = sample("os-admin-actions/admin-actions-reset-server-state.json")
        self.assertIsNone(self.send("POST", f"/servers/{sid}/action", body, 202, ADMIN))
        self.assertEqual(
            self.send("GET", f"/servers/{sid}", None, 200)["server"]["status"], "ACTIVE"
        )

    def test_console_output_sample(self):
        sid = self.settled_server()
        body = sample("os-console-output/console-output-post-req.json")
        answer = self.send("POST", f"/servers/{sid}/action", body, 200)
        # Nova's answer has one key, the output (its sample's is its fake driver's);
        # the test driver's guest writes no console.
        self.assertEqual(
            set(answer), set(sample("os-console-output/console-output-post-resp.json"))
        )
        self.assertEqual(answer["output"], "")

    def test_attach_interface_sample(self):
        # The sample's network is replaced by one of this cloud with the sample's subnet.
        _other, port = self.make_port()
        sid = self.server_on_port(port, "hot")
        net = self.http.post(
            f"{self.quantum_project}/networks",
            json={"network": {"name": "sample", "subnet": {"cidr": "192.168.1.0/24"}}},
            headers={"X-Auth-Token": ADMIN},
            timeout=30,
        ).json()["network"]["id"]
        body = sample("os-attach-interfaces/attach-interfaces-create-net_id-req.json")
        body["interfaceAttachment"]["net_id"] = net
        answer = self.send("POST", f"/servers/{sid}/os-interface", body, 200)
        wanted = sample("os-attach-interfaces/attach-interfaces-create-resp.json")
        self.assertEqual(set(answer), set(wanted))
        attached = answer["interfaceAttachment"]
        self.assertEqual(set(attached), set(wanted["interfaceAttachment"]))
        self.assertEqual(attached["net_id"], net)
        self.assertEqual([f["ip_address"] for f in attached["fixed_ips"]], ["192.168.1.3"])
        self.send("DELETE", f"/servers/{sid}/os-interface/{attached['port_id']}", None, 202)

    def test_server_metadata_samples(self):
        sid = self.settled_server()
        self.send(
            "PUT",
            f"/servers/{sid}/metadata",
            sample("server-metadata/server-metadata-all-req.json"),
            200,
        )
        self.send(
            "PUT",
            f"/servers/{sid}/metadata/foo",
            sample("server-metadata/server-metadata-req.json"),
            200,
        )
        shown = self.send("GET", f"/servers/{sid}/metadata", None, 200)
        self.assertEqual(shown, {"metadata": {"foo": "Bar Value"}})

    def test_keypair_samples(self):
        generated = self.send(
            "POST", "/os-keypairs", sample("os-keypairs/keypairs-post-req.json"), 200
        )
        self.assertIn("private_key", generated["keypair"])
        imported = sample("os-keypairs/keypairs-import-post-req.json")
        self.send("POST", "/os-keypairs", imported, 200)
        names = {
            k["keypair"]["name"] for k in self.send("GET", "/os-keypairs", None, 200)["keypairs"]
        }
        self.assertEqual(names, {generated["keypair"]["name"], imported["keypair"]["name"]})

    def test_flavor_manage_and_extra_specs_samples(self):
        self.send(
            "POST", "/flavors", sample("flavor-manage/flavor-create-post-req.json"), 200, ADMIN
        )
        self.send(
            "POST",
            "/flavors/10/os-extra_specs",
            sample("flavor-extra-specs/flavor-extra-specs-create-req.json"),
            200,
            ADMIN,
        )
        self.send(
            "PUT",
            "/flavors/10/os-extra_specs/hw:numa_nodes",
            sample("flavor-extra-specs/flavor-extra-specs-update-req.json"),
            200,
            ADMIN,
        )
        specs = self.send("GET", "/flavors/10/os-extra_specs", None, 200)
        self.assertEqual(specs, {"extra_specs": {"hw:cpu_policy": "shared", "hw:numa_nodes": "2"}})

    def test_quota_set_samples(self):
        self.send(
            "PUT",
            f"/os-quota-sets/{base.PROJECT}",
            sample("os-quota-sets/quotas-update-post-req.json"),
            200,
            ADMIN,
        )
        self.send(
            "PUT",
            f"/os-quota-sets/{base.PROJECT}",
            sample("os-quota-sets/quotas-update-force-post-req.json"),
            200,
            ADMIN,
        )
        quota = self.send("GET", f"/os-quota-sets/{base.PROJECT}", None, 200)["quota_set"]
        self.assertEqual((quota["cores"], quota["instances"]), (45, 45))

    def test_service_samples(self):
        for name, action in (
            ("os-services/service-disable-put-req.json", "disable"),
            ("os-services/service-disable-log-put-req.json", "disable-log-reason"),
            ("os-services/service-enable-put-req.json", "enable"),
        ):
            with self.subTest(sample=name):
                body = dict(sample(name), host="allinone")  # this cloud's compute host
                self.send("PUT", f"/os-services/{action}", body, 200, ADMIN)
