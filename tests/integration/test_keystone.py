"""nova-all and quantum-server with ``auth_strategy = keystone`` against a real Keystone.

One Keystone (tools/services/keystone.sh, started by ./run_tests.sh), one
``quantum-server`` and one ``nova-all`` (with the network service at that
Quantum and a ``[quantum]`` service user) for the whole class: tokens of
Keystone's users, issued and revoked through its API, make the requests.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest
import uuid

import requests

from tests.fixtures import keystone as keystone_fixtures
from tests.fixtures import processes

SERVER_TIMEOUT = 60


class KeystoneCloudTestCase(unittest.TestCase):
    """A Keystone-authenticated cloud: ``cls.nova`` (NovaAll) and ``cls.quantum_url``."""

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        if not os.environ.get(keystone_fixtures.URL_VARIABLE):
            return  # setUp skips (or fails) each test
        cls.keystone = keystone_fixtures.Keystone()
        cls.state = tempfile.mkdtemp(prefix="nova-keystone-")
        cls.session = requests.Session()
        cls.session.trust_env = False
        cls.quantum_process = None
        cls.nova = None
        try:
            cls._start_cloud()
        except BaseException:
            cls._stop_cloud()
            raise

    @classmethod
    def _start_cloud(cls) -> None:
        ks = cls.keystone
        port = processes.free_port()
        cls.quantum_url = f"http://127.0.0.1:{port}"
        quantum_conf = os.path.join(cls.state, "quantum.conf")
        with open(quantum_conf, "w", encoding="utf-8") as handle:
            handle.write(
                processes.config_text(
                    {
                        "DEFAULT": {
                            "state_path": cls.state,
                            "bind_host": "127.0.0.1",
                            "bind_port": port,
                            "auth_strategy": "keystone",
                        },
                        # No cache: a token revoked is refused at once.
                        "keystone_authtoken": ks.authtoken("quantum", token_cache_time=-1),
                    }
                )
            )
        cls.quantum_process = processes.spawn(
            [processes.command("quantum-server"), "--config-file", quantum_conf],
            os.path.join(cls.state, "quantum-server.log"),
            cwd=cls.state,
        )
        cls.nova = cls.nova_all(os.path.join(cls.state, "nova"))
        cls.nova.start()
        deadline = time.monotonic() + processes.START_TIMEOUT
        while True:
            try:
                if cls.session.get(cls.quantum_url, timeout=5).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if cls.quantum_process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    "quantum-server did not start:\n"
                    + processes.tail(os.path.join(cls.state, "quantum-server.log"))
                )
            time.sleep(0.2)
        cls.nova.wait_ready()
        ks.register_endpoint("network", cls.quantum_url)
        ks.register_endpoint("compute", cls.nova.api)
        cls.api = cls.nova.api
        cls.demo_id = ks.id_of("projects", "demo")
        cls.alt_id = ks.id_of("projects", "alt")

    @classmethod
    def nova_all(
        cls, state: str, keystone_url: str | None = None, embedded: bool = False
    ) -> processes.NovaAll:
        """Return a (not started) nova-all with Keystone auth, its Quantum ``cls.quantum_url``.

        ``keystone_url`` replaces Keystone's URL in ``[keystone_authtoken]``;
        ``embedded``: Quantum runs inside it instead.
        """
        os.makedirs(state, exist_ok=True)
        ks = cls.keystone
        authtoken = ks.authtoken("nova")
        if keystone_url is not None:
            authtoken.update(www_authenticate_uri=keystone_url, auth_url=keystone_url + "/v3")
        return processes.NovaAll(
            state,
            None if embedded else cls.quantum_url,
            options={
                "DEFAULT": {"ram_allocation_ratio": 64, "disk_allocation_ratio": 1000},
                "api": {"auth_strategy": "keystone"},
                "keystone_authtoken": authtoken,
                "quantum": {"connect_retries": 0, **ks.password_options("nova")},
            },
        )

    @classmethod
    def _stop_cloud(cls) -> None:
        if cls.nova is not None:
            cls.nova.close()
        if cls.quantum_process is not None:
            processes.terminate(cls.quantum_process)
        cls.session.close()
        cls.keystone.close()

    @classmethod
    def tearDownClass(cls) -> None:
        if hasattr(cls, "keystone"):
            cls._stop_cloud()
            shutil.rmtree(cls.state, ignore_errors=True)
        super().tearDownClass()

    def setUp(self) -> None:
        super().setUp()
        keystone_fixtures.require(self)

    def print_logs(self) -> None:
        print("--- nova-all ---\n" + self.nova.log_tail(60))
        print(
            "--- quantum-server ---\n"
            + processes.tail(os.path.join(self.state, "quantum-server.log"))
        )

    # --- helpers ------------------------------------------------------------------------

    def http(self, method: str, url: str, token: str | None, body=None, expect: int | None = None):
        headers = {} if token is None else {"X-Auth-Token": token}
        response = self.session.request(method, url, json=body, headers=headers, timeout=60)
        if expect is not None and response.status_code != expect:
            self.print_logs()
            self.fail(f"{method} {url}: {response.status_code} {response.text[:2000]}")
        return response

    def quantum_port(self, token: str, project_id: str) -> tuple[str, str]:
        """Make a network and a port in ``project_id`` with ``token``; return their ids."""
        base = f"{self.quantum_url}/v1.1/tenants/{project_id}/networks"
        body = {"network": {"name": f"net-{uuid.uuid4().hex[:6]}"}}
        network_id = self.http("POST", base, token, body, 202).json()["network"]["id"]
        port = self.http("POST", f"{base}/{network_id}/ports", token, {"port": {}}, 202)
        return network_id, port.json()["port"]["id"]

    def create_server(self, token: str, port_id: str | None = None, expect: int = 202):
        networks: object = [{"port": port_id}] if port_id else "none"
        body = {
            "server": {"name": "vm", "imageRef": "cirros", "flavorRef": "1", "networks": networks}
        }
        return self.http("POST", f"{self.api}/servers", token, body, expect)

    def wait_status(self, server_id: str, token: str, status: str = "ACTIVE") -> dict:
        deadline = time.monotonic() + SERVER_TIMEOUT
        while True:
            server = self.http("GET", f"{self.api}/servers/{server_id}", token, expect=200)
            server = server.json()["server"]
            if server["status"] == status:
                return server
            if server["status"] == "ERROR" or time.monotonic() > deadline:
                self.print_logs()
                self.fail(f"server {server_id}: {server['status']}, fault {server.get('fault')}")
            time.sleep(0.2)

    def assert_fault(self, response, code: int, name: str) -> dict:
        self.assertEqual(response.status_code, code, response.text)
        self.assertEqual(response.headers["Content-Type"].split(";")[0], "application/json")
        fault = response.json()[name]
        self.assertEqual(fault["code"], code)
        self.assertTrue(fault["message"])
        return fault


class KeystoneAuthTestCase(KeystoneCloudTestCase):
    def test_version_documents_need_no_token(self):
        root = self.nova.api.rsplit("/", 1)[0]
        for url in (root + "/", self.api, self.api + "/"):
            with self.subTest(url=url):
                response = self.http("GET", url, None, expect=200)
                self.assertIn("version", response.text)
        versions = self.http("GET", self.quantum_url + "/", None, expect=200).json()
        self.assertEqual([v["id"] for v in versions["versions"]], ["v1.1", "v2.0"])

    def test_missing_garbage_and_revoked_tokens_are_401(self):
        revoked = self.keystone.token("demo-member")
        self.keystone.revoke(revoked)
        for what, token in (("missing", None), ("garbage", "gArBaGe"), ("revoked", revoked)):
            with self.subTest(token=what, service="nova"):
                response = self.http("GET", f"{self.api}/servers", token)
                self.assert_fault(response, 401, "unauthorized")
                self.assertEqual(
                    response.headers["WWW-Authenticate"], f'Keystone uri="{self.keystone.url}"'
                )
                self.assertTrue(response.headers["x-openstack-request-id"].startswith("req-"))
            with self.subTest(token=what, service="quantum"):
                url = f"{self.quantum_url}/v1.1/tenants/{self.demo_id}/networks"
                response = self.http("GET", url, token)
                self.assert_fault(response, 401, "unauthorized")
                self.assertIn("Keystone uri=", response.headers["WWW-Authenticate"])
        # Forged identity headers do not pass the middleware.
        response = self.session.get(
            f"{self.api}/servers",
            headers={
                "X-Auth-Token": "gArBaGe",
                "X-Identity-Status": "Confirmed",
                "X-User-Id": "u",
                "X-Project-Id": self.demo_id,
                "X-Roles": "admin",
            },
            timeout=60,
        )
        self.assert_fault(response, 401, "unauthorized")

    def test_servers_with_keystone_identities(self):
        ks = self.keystone
        member, token = ks.issue("demo-member")
        alt = ks.token("alt-member")
        admin = ks.token("admin", "demo")
        user_id = token["user"]["id"]
        _network_id, port_id = self.quantum_port(member, self.demo_id)
        server_id = self.create_server(member, port_id).json()["server"]["id"]
        alt_server_id = self.create_server(alt).json()["server"]["id"]
        server = self.wait_status(server_id, member)
        self.assertEqual((server["user_id"], server["tenant_id"]), (user_id, self.demo_id))
        alt_server = self.wait_status(alt_server_id, alt)
        self.assertEqual(alt_server["tenant_id"], self.alt_id)

        with self.subTest("another project's server and port are not found"):
            self.assert_fault(
                self.http("GET", f"{self.api}/servers/{server_id}", alt), 404, "itemNotFound"
            )
            response = self.create_server(alt, port_id, expect=None)
            self.assertIn(response.status_code, (400, 404), response.text)
            port_url = f"{self.quantum_url}/v2.0/ports/{port_id}"
            self.assertEqual(self.http("GET", port_url, alt).status_code, 404)
            self.assertEqual(self.http("GET", port_url, member).status_code, 200)

        with self.subTest("the port is attached to the server's VIF"):
            interfaces = self.http(
                "GET", f"{self.api}/servers/{server_id}/os-interface", member, expect=200
            ).json()["interfaceAttachments"]
            self.assertEqual([i["port_id"] for i in interfaces], [port_id])

        with self.subTest("admin sees every project's servers; a member only its own"):
            url = f"{self.api}/servers?all_tenants=1"
            ids = {s["id"] for s in self.http("GET", url, admin, expect=200).json()["servers"]}
            self.assertLessEqual({server_id, alt_server_id}, ids)
            self.assert_fault(self.http("GET", url, member), 403, "forbidden")
            listed = self.http("GET", f"{self.api}/servers", member, expect=200).json()
            ids = {s["id"] for s in listed["servers"]}
            self.assertIn(server_id, ids)
            self.assertNotIn(alt_server_id, ids)

        with self.subTest("admin calls are 403 for a member"):
            self.assert_fault(self.http("GET", f"{self.api}/os-services", member), 403, "forbidden")
            self.http("GET", f"{self.api}/os-services", admin, expect=200)

        for sid, tok in ((server_id, member), (alt_server_id, alt)):
            self.http("DELETE", f"{self.api}/servers/{sid}", tok, expect=204)

    def test_reader_reads_and_does_not_write(self):
        """Nova's default policy: the reader role lists and shows, and is refused writes."""
        ks = self.keystone
        member = ks.token("demo-member")
        reader = ks.token("demo-reader")
        server_id = self.create_server(member).json()["server"]["id"]
        self.wait_status(server_id, member)
        try:
            servers = self.http("GET", f"{self.api}/servers", reader, expect=200).json()
            self.assertIn(server_id, [s["id"] for s in servers["servers"]])
            self.http("GET", f"{self.api}/servers/{server_id}", reader, expect=200)
            response = self.create_server(reader, expect=None)
            if response.status_code == 202:
                self.http("DELETE", f"{self.api}/servers/{response.json()['server']['id']}", member)
            self.assert_fault(response, 403, "forbidden")
            response = self.http("DELETE", f"{self.api}/servers/{server_id}", reader)
            self.assert_fault(response, 403, "forbidden")
            self.http("GET", f"{self.api}/servers/{server_id}", reader, expect=200)
        finally:
            self.http("DELETE", f"{self.api}/servers/{server_id}", member)

    def test_keystone_unreachable_is_503_with_a_fault_body(self):
        dead = f"http://127.0.0.1:{processes.free_port()}"
        nova = self.nova_all(os.path.join(self.state, "nova-dead-keystone"), keystone_url=dead)
        nova.start()
        try:
            nova.wait_ready()  # the version documents answer without Keystone
            for method in ("GET", "POST"):
                with self.subTest(method=method):
                    response = nova.session.request(
                        method,
                        f"{nova.api}/servers",
                        json={"server": {}} if method == "POST" else None,
                        headers={"X-Auth-Token": self.keystone.token("demo-member")},
                        timeout=60,
                    )
                    self.assert_fault(response, 503, "serviceUnavailable")
                    self.assertTrue(response.headers["x-openstack-request-id"].startswith("req-"))
                    self.assertIn("Retry-After", response.headers)
        finally:
            nova.close()

    def test_nova_acts_as_its_service_user_when_the_users_token_is_refused(self):
        """A token Nova's middleware still trusts (cached) but Quantum refuses (revoked).

        Nova's keystonemiddleware caches a validated token for
        token_cache_time; Quantum's (no cache) refuses it once revoked. Nova's
        calls to Quantum in the API and on the compute host then go as the
        ``nova`` service user, and the server is made.
        """
        ks = self.keystone
        member = ks.token("demo-member")
        _network_id, port_id = self.quantum_port(member, self.demo_id)
        self.http("GET", f"{self.api}/servers", member, expect=200)  # now cached in Nova
        ks.revoke(member)
        port_url = f"{self.quantum_url}/v2.0/ports/{port_id}"
        self.assert_fault(self.http("GET", port_url, member), 401, "unauthorized")
        server_id = self.create_server(member, port_id).json()["server"]["id"]
        fresh = ks.token("demo-member")
        self.wait_status(server_id, fresh)
        interfaces = self.http(
            "GET", f"{self.api}/servers/{server_id}/os-interface", fresh, expect=200
        ).json()["interfaceAttachments"]
        self.assertEqual([i["port_id"] for i in interfaces], [port_id])
        self.assertTrue(self.nova.log_lines("retrying as the service user"), self.nova.log_tail())
        self.http("DELETE", f"{self.api}/servers/{server_id}", fresh, expect=204)

    def test_nova_all_with_its_embedded_quantum_checks_tokens_too(self):
        """The embedded Quantum of a Keystone nova-all takes Keystone tokens, no noauth ones."""
        nova = self.nova_all(os.path.join(self.state, "nova-embedded"), embedded=True)
        nova.start()
        try:
            nova.wait_ready()
            networks = f"{nova.quantum_url}/v1.1/tenants/{self.demo_id}/networks"
            for token in ("admin:admin", f"admin:{self.demo_id}", None):
                with self.subTest(token=token):
                    self.assert_fault(self.http("GET", networks, token), 401, "unauthorized")
            member = self.keystone.token("demo-member")
            body = {"network": {"name": "embedded"}}
            network_id = self.http("POST", networks, member, body, 202).json()["network"]["id"]
            port_id = self.http(
                "POST", f"{networks}/{network_id}/ports", member, {"port": {}}, 202
            ).json()["port"]["id"]
            body = {
                "server": {
                    "name": "vm",
                    "imageRef": "cirros",
                    "flavorRef": "1",
                    "networks": [{"port": port_id}],
                }
            }
            created = self.http("POST", f"{nova.api}/servers", member, body, 202)
            server_url = f"{nova.api}/servers/{created.json()['server']['id']}"
            deadline = time.monotonic() + SERVER_TIMEOUT
            while (
                self.http("GET", server_url, member, expect=200).json()["server"]["status"]
                != "ACTIVE"
            ):
                self.assertLess(time.monotonic(), deadline, nova.log_tail())
                time.sleep(0.2)
            attachment = self.http(
                "GET", f"{networks}/{network_id}/ports/{port_id}/attachment", member, expect=200
            ).json()["attachment"]
            self.assertTrue(attachment.get("id"))
            self.http("DELETE", server_url, member, expect=204)
        finally:
            nova.close()

    def test_unmodified_openstack_cli(self):
        """``openstack token issue`` and ``openstack server list`` from a Keystone clouds.yaml."""
        from tests.compat import base as compat

        venv = compat.client_venv(self)
        ks = self.keystone
        clouds = os.path.join(self.state, "clouds.yaml")
        with open(clouds, "w", encoding="utf-8") as handle:
            handle.write(
                "clouds:\n"
                "  keystone:\n"
                "    auth:\n"
                f"      auth_url: {ks.auth_url}\n"
                "      username: demo-member\n"
                f"      password: {ks.password}\n"
                "      project_name: demo\n"
                "      user_domain_name: Default\n"
                "      project_domain_name: Default\n"
                "    region_name: RegionOne\n"
                "    identity_api_version: 3\n"
            )
        env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        env.update(OS_CLIENT_CONFIG_FILE=clouds, OS_CLOUD="keystone", no_proxy="127.0.0.1")
        env.pop("PYTHONPATH", None)

        def openstack(*args: str):
            done = subprocess.run(
                [os.path.join(venv, "bin", "openstack"), *args, "-f", "json"],
                capture_output=True,
                text=True,
                env=env,
                stdin=subprocess.DEVNULL,
                timeout=compat.CLI_TIMEOUT,
                check=False,
            )
            self.assertEqual(done.returncode, 0, f"openstack {args}: {done.stderr[-2000:]}")
            return json.loads(done.stdout)

        token = openstack("token", "issue")
        self.assertEqual(token["project_id"], self.demo_id)
        member = ks.token("demo-member")
        server_id = self.create_server(member).json()["server"]["id"]
        try:
            self.wait_status(server_id, member)
            listed = openstack("server", "list")
            self.assertIn(server_id, [s["ID"] for s in listed])
        finally:
            self.http("DELETE", f"{self.api}/servers/{server_id}", member)
