"""The README's "Keystone walkthrough (clouds.yaml)", run as written.

A real Keystone (tools/services/keystone.sh), a Keystone-mode Glance
(``start_glance_keystone``: NOVA_TEST_GLANCE_KEYSTONE_URL) and nova-all with
``[api] auth_strategy = keystone``, its embedded Quantum and ``[image]
backend = glance`` (the image endpoint from the user's catalog); the catalog
has the compute, network (the embedded Quantum) and image endpoints. The
``clouds.yaml`` is the README's with the URLs and password substituted, and
the unmodified ``openstack`` CLI runs the README's commands in its order
(with ``-f json`` added where the test reads the output); openstacksdk's
``openstack.connect(cloud="demo")`` then does the same core steps. Every
command the test runs is checked to be in the README's walkthrough.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

import requests

from tests.compat import base
from tests.fixtures import databases
from tests.fixtures import keystone as keystone_fixtures
from tests.fixtures import processes

README = os.path.join(os.path.dirname(__file__), "..", "..", "README.md")
SECTION = "### Keystone walkthrough (clouds.yaml)"

#: The README's clouds.yaml; KEYSTONE and PASSWORD are substituted.
CLOUDS_YAML = """\
clouds:
  demo:
    auth:
      auth_url: http://KEYSTONE/v3
      username: demo-member
      password: PASSWORD
      project_name: demo
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
    identity_api_version: 3
  admin:
    auth:
      auth_url: http://KEYSTONE/v3
      username: admin
      password: PASSWORD
      project_name: admin
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
    identity_api_version: 3
  alt:
    auth:
      auth_url: http://KEYSTONE/v3
      username: alt-member
      password: PASSWORD
      project_name: alt
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
    identity_api_version: 3
"""

#: openstacksdk from clouds.yaml: the README's script (PORT from argv[1]).
SDK_SCRIPT = """\
import json, sys
import openstack

conn = openstack.connect(cloud="demo")
image = conn.image.find_image("tiny", ignore_missing=False)
flavor = conn.compute.find_flavor("m1.tiny", ignore_missing=False)
server = conn.compute.create_server(
    name="sdk1", image_id=image.id, flavor_id=flavor.id,
    networks=[{"port": sys.argv[1]}])
server = conn.compute.wait_for_server(server, status="ACTIVE")
shown = conn.compute.get_server(server.id)
listed = [s.id for s in conn.compute.servers()]
conn.compute.delete_server(server)
conn.compute.wait_for_delete(server)
print(json.dumps({"id": shown.id, "status": shown.status, "image": shown.image.id,
                  "project": shown.project_id, "listed": listed,
                  "after": [s.id for s in conn.compute.servers()]}))
"""


class KeystoneWalkthroughTestCase(unittest.TestCase):
    def setUp(self) -> None:
        super().setUp()
        self.venv = base.client_venv(self)
        keystone_fixtures.require(self)
        self.glance = databases.server_url("glance-keystone") or ""
        if not self.glance:
            databases.skip_or_fail(self, "glance-keystone")
        self.glance = self.glance.rstrip("/")
        self.ks = keystone_fixtures.Keystone()
        self.addCleanup(self.ks.close)
        self.state = tempfile.mkdtemp(prefix="nova-walkthrough-")
        self.addCleanup(shutil.rmtree, self.state, True)
        self.http = requests.Session()
        self.http.trust_env = False
        self.addCleanup(self.http.close)
        with open(README, encoding="utf-8") as handle:
            readme = handle.read()
        self.assertIn(SECTION, readme)
        self.readme = readme.split(SECTION, 1)[1].split("\n## ", 1)[0]
        # nova-all as the README's nova.conf: Keystone, embedded Quantum, Glance from the catalog.
        os.makedirs(os.path.join(self.state, "nova"))
        self.nova = processes.NovaAll(
            os.path.join(self.state, "nova"),
            options={
                "api": {"auth_strategy": "keystone"},
                "keystone_authtoken": self.ks.authtoken("nova"),
                "quantum": {"connect_retries": 0, **self.ks.password_options("nova")},
                "image": {"backend": "glance"},
            },
        )
        self.nova.start()
        self.addCleanup(self.nova.close)
        self.nova.wait_ready()
        self.clouds_yaml = os.path.join(self.state, "clouds.yaml")
        keystone = self.ks.url.split("://", 1)[1]
        text = CLOUDS_YAML.replace("KEYSTONE", keystone).replace("PASSWORD", self.ks.password)
        with open(self.clouds_yaml, "w", encoding="utf-8") as handle:
            handle.write(text)
        readme_yaml = CLOUDS_YAML.replace("KEYSTONE", "127.0.0.1:5000").replace(
            "PASSWORD", "secret"
        )
        self.assertIn(readme_yaml, self.readme, "the README's clouds.yaml")
        # The README's catalog: endpoints made with the CLI as Keystone's admin
        # (first without the endpoints other tests registered).
        readme_urls = {
            "compute": ("http://127.0.0.1:8774/v2.1", self.nova.api),
            "network": ("http://127.0.0.1:9696", self.nova.quantum_url),
            "image": ("http://127.0.0.1:9292", self.glance),
        }
        for service, (readme_url, url) in readme_urls.items():
            self.delete_endpoints(service)
            command = f"endpoint create --region RegionOne {service} public {readme_url}"
            self.in_readme(f"OS_CLOUD=admin openstack {command}")
            made = self.run_client(
                "admin",
                ["openstack", *command.replace(readme_url, url).split(), "-f", "json"],
            )
            self.assertEqual(json.loads(made)["url"], url)
            self.addCleanup(self.delete_endpoints, service)

    def delete_endpoints(self, service_type: str) -> None:
        """Delete every endpoint of ``service_type`` from Keystone's catalog."""
        services = self.ks.call("GET", f"/services?type={service_type}").json()["services"]
        for service in services:
            endpoints = self.ks.call("GET", f"/endpoints?service_id={service['id']}")
            for endpoint in endpoints.json()["endpoints"]:
                self.ks.call("DELETE", f"/endpoints/{endpoint['id']}")

    def in_readme(self, line: str) -> None:
        if line not in self.readme:
            self.fail(f"not in the README's walkthrough: {line!r}")

    def run_client(self, cloud: str, args: list[str], expect: int = 0) -> str:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        env.pop("PYTHONPATH", None)
        env.update(
            OS_CLIENT_CONFIG_FILE=self.clouds_yaml,
            OS_CLOUD=cloud,
            HOME=self.state,
            no_proxy="127.0.0.1,localhost",
            NO_PROXY="127.0.0.1,localhost",
        )
        done = subprocess.run(
            [os.path.join(self.venv, "bin", args[0]), *args[1:]],
            capture_output=True,
            text=True,
            env=env,
            timeout=base.CLI_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
        self.last_stderr = done.stderr
        if expect == 0:
            self.assertEqual(
                done.returncode, 0, f"{args} exited {done.returncode}:\n{done.stderr[-3000:]}"
            )
        else:
            self.assertNotEqual(done.returncode, 0, f"{args} succeeded:\n{done.stdout}")
        return done.stdout

    def openstack(self, cloud: str, command: str, expect: int = 0):
        """Run the README's ``openstack COMMAND`` (as ``OS_CLOUD=cloud``) with ``-f json``."""
        self.in_readme(f"openstack {command}")
        out = self.run_client(cloud, ["openstack", *command.split(), "-f", "json"], expect)
        return json.loads(out) if expect == 0 and out.strip() else out

    def quantum_port(self, token: str, project_id: str) -> str:
        """The README's curl calls: a network and a port of the user's project (Quantum v1.1).

        Returns the port's URL.
        """
        q = f"{self.nova.quantum_url}/v1.1/tenants/{project_id}"
        net = self.http.post(
            f"{q}/networks",
            json={"network": {"name": "web"}},
            headers={"X-Auth-Token": token},
            timeout=30,
        )
        self.assertEqual(net.status_code, 202, net.text)
        net_id = net.json()["network"]["id"]
        port = self.http.post(
            f"{q}/networks/{net_id}/ports", headers={"X-Auth-Token": token}, timeout=30
        )
        self.assertEqual(port.status_code, 202, port.text)
        return f"{q}/networks/{net_id}/ports/{port.json()['port']['id']}"

    def attachment(self, port_url: str, token: str) -> dict:
        """Return Quantum's attachment of the port (``{}`` when none)."""
        got = self.http.get(f"{port_url}/attachment", headers={"X-Auth-Token": token}, timeout=30)
        self.assertEqual(got.status_code, 200, got.text)
        return got.json()["attachment"]

    def test_walkthrough(self):
        t0 = time.monotonic()
        demo_id = self.ks.id_of("projects", "demo")
        alt_id = self.ks.id_of("projects", "alt")
        token = self.openstack("demo", "token issue")
        self.assertEqual(token["project_id"], demo_id)
        self.assertTrue(token["id"])

        path = os.path.join(self.state, "tiny.img")
        with open(path, "wb") as handle:
            handle.write(os.urandom(1024))
        image = self._image_create(path)
        self.assertEqual((image["name"], image["status"]), ("tiny", "active"))
        self.assertEqual(image["owner"], demo_id)

        flavors = self.openstack("demo", "flavor list")
        self.assertIn("m1.tiny", [f["Name"] for f in flavors])

        port_url = self.quantum_port(token["id"], token["project_id"])
        port = port_url.rsplit("/", 1)[1]
        for line in (
            "TOKEN=$(openstack token issue -f value -c id)",
            "PROJECT=$(openstack token issue -f value -c project_id)",
            '-H "X-Auth-Token: $TOKEN"',
        ):
            self.in_readme(line)
        server = self._server_create(port)
        self.assertEqual(server["status"], "ACTIVE")
        self.assertEqual(server["project_id"], demo_id)
        self.assertEqual(server["user_id"], self.ks.id_of("users", "demo-member"))
        # Nova plugged a VIF into the demo project's port.
        vif = self.attachment(port_url, token["id"])["id"]
        vifs = self.nova.session.get(
            f"{self.nova.api}/servers/{server['id']}/os-virtual-interfaces",
            headers={"X-Auth-Token": token["id"]},
            timeout=30,
        )
        self.assertEqual([v["id"] for v in vifs.json()["virtual_interfaces"]], [vif])

        listed = self.openstack("demo", "server list")
        self.assertEqual([(s["ID"], s["Name"], s["Status"]) for s in listed],
                         [(server["id"], "demo1", "ACTIVE")])  # fmt: skip
        shown = self.openstack("demo", "server show demo1")
        self.assertEqual(shown["id"], server["id"])
        self.assertIn(image["id"], str(shown["image"]))
        api_view = self.nova.session.get(
            f"{self.nova.api}/servers/{server['id']}",
            headers={"X-Auth-Token": token["id"]},
            timeout=30,
        ).json()["server"]
        self.assertEqual(api_view["image"]["id"], image["id"])

        everyone = self.openstack("admin", "server list --all-projects")
        self.assertIn(server["id"], [s["ID"] for s in everyone])
        self.assertEqual({s["Project ID"] for s in everyone if s["ID"] == server["id"]}, {demo_id})
        mine = self.openstack("admin", "server list")
        self.assertNotIn(server["id"], [s["ID"] for s in mine])
        # A member's --all-projects is Nova's 403.
        self.run_client("demo", ["openstack", "server", "list", "--all-projects"], expect=1)
        # (The rule's name is the policy's: servers:index:all_tenants, or Nova's
        # os_compute_api:servers:detail:get_all_tenants with oslo.policy.)
        self.assertRegex(
            self.last_stderr, r"ForbiddenException: 403: .*all_tenants=True.*Policy doesn't allow"
        )
        # Compute quotas (plain `quota show` also asks the network endpoint for Neutron's).
        quotas = {q["Resource"]: q["Limit"] for q in self.openstack("demo", "quota show --compute")}
        self.assertEqual(quotas["key-pairs"], 100)

        self.in_readme("openstack server show $ID")
        self.run_client("alt", ["openstack", "server", "show", server["id"]], expect=1)
        self.assertIn(f"No Server found for {server['id']}", self.last_stderr)

        self.in_readme("openstack server delete --wait demo1")
        self.run_client("demo", ["openstack", "server", "delete", "--wait", "demo1"])
        self.assertEqual(self.openstack("demo", "server list"), [])
        self.assertEqual(self.attachment(port_url, token["id"]), {})  # the port stays, detached

        # openstacksdk: openstack.connect(cloud="demo").
        self.in_readme(SDK_SCRIPT.split("print(", 1)[0])
        port2 = self.quantum_port(token["id"], token["project_id"])
        out = self.run_client("demo", ["python", "-c", SDK_SCRIPT, port2.rsplit("/", 1)[1]])
        sdk = json.loads(out)
        self.assertEqual(sdk["status"], "ACTIVE")
        self.assertEqual(sdk["image"], image["id"])
        self.assertEqual(sdk["project"], demo_id)
        self.assertEqual(sdk["listed"], [sdk["id"]])
        self.assertEqual(sdk["after"], [])
        self.assertEqual(self.attachment(port2, token["id"]), {})
        # alt's project saw none of it.
        alt_token = self.ks.token("alt-member")
        alt_servers = self.nova.session.get(
            f"{self.nova.api}/servers", headers={"X-Auth-Token": alt_token}, timeout=30
        )
        self.assertEqual((alt_servers.status_code, alt_servers.json()), (200, {"servers": []}))
        self.assertNotEqual(alt_id, demo_id)
        self.assertLess(time.monotonic() - t0, 120)

    def _image_create(self, path: str) -> dict:
        command = "image create --file tiny.img --disk-format raw --container-format bare tiny"
        self.in_readme(f"openstack {command}")
        args = ["openstack", *command.replace("tiny.img", path).split(), "-f", "json"]
        image = json.loads(self.run_client("demo", args))
        self.addCleanup(
            self.http.delete,
            f"{self.glance}/v2/images/{image['id']}",
            headers={"X-Auth-Token": self.ks.admin_token},
            timeout=30,
        )
        return image

    def _server_create(self, port: str) -> dict:
        command = "server create --image tiny --flavor m1.tiny --nic port-id=$PORT --wait demo1"
        self.in_readme(f"openstack {command}")
        args = ["openstack", *command.replace("$PORT", port).split(), "-f", "json"]
        return json.loads(self.run_client("demo", args))
