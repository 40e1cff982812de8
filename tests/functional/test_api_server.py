"""nova-api and quantum-server as real processes, over real sockets.

nova-api refuses the in-process ``fake://`` transport (only nova-all may use
it): it runs with the RabbitMQ of ``run_tests.sh`` (``NOVA_TEST_RABBIT_URL``),
skipped without.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

import requests

from tests.fixtures.databases import server_url
from tests.fixtures.databases import skip_or_fail
from tests.fixtures.processes import command
from tests.fixtures.processes import free_port


class APIServerTestCase(unittest.TestCase):
    def start(self, args: list[str], url: str, log: str) -> subprocess.Popen:
        handle = open(log, "w", encoding="utf-8")  # noqa: SIM115 - closed in cleanup
        self.addCleanup(handle.close)
        process = subprocess.Popen(args, stdout=handle, stderr=subprocess.STDOUT)

        def stop():
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()

        self.addCleanup(stop)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                self.fail(f"{args[0]} exited: {open(log, encoding='utf-8').read()[-2000:]}")
            try:
                requests.get(url, timeout=1)
                return process
            except requests.ConnectionError:
                time.sleep(0.2)
        self.fail(f"{args[0]} did not answer at {url}")

    def test_define_launch_and_list_vifs_through_sockets(self):
        rabbit_url = server_url("rabbitmq")
        if not rabbit_url:
            skip_or_fail(self, "rabbitmq")
        state = tempfile.mkdtemp(prefix="nova-api-")
        self.addCleanup(shutil.rmtree, state, ignore_errors=True)
        quantum_port, api_port = free_port(), free_port()
        quantum_conf = os.path.join(state, "quantum.conf")
        with open(quantum_conf, "w", encoding="utf-8") as handle:
            handle.write(f"[DEFAULT]\nstate_path = {state}\nbind_port = {quantum_port}\n")
        nova_conf = os.path.join(state, "nova.conf")
        with open(nova_conf, "w", encoding="utf-8") as handle:
            handle.write(
                f"[DEFAULT]\nstate_path = {state}\nosapi_compute_listen_port = {api_port}\n"
                f"osapi_compute_workers = 2\ntransport_url = {rabbit_url}\n"
                f"[quantum]\nurl = http://127.0.0.1:{quantum_port}\n"
                "[wsgi]\nmax_header_count = 20\n"
            )
        sync = subprocess.run(
            [command("nova-manage"), "--config-file", nova_conf, "db", "sync"],
            capture_output=True,
            text=True,
        )
        self.assertEqual(sync.returncode, 0, sync.stderr)
        quantum = f"http://127.0.0.1:{quantum_port}"
        api = f"http://127.0.0.1:{api_port}"
        self.start(
            [command("quantum-server"), "--config-file", quantum_conf],
            quantum,
            os.path.join(state, "quantum.log"),
        )
        self.start(
            [command("nova-api"), "--config-file", nova_conf], api, os.path.join(state, "api.log")
        )

        admin = {"X-Auth-Token": "admin:demo"}
        net = requests.post(
            f"{quantum}/v1.1/tenants/demo/networks",
            json={"network": {"name": "web", "plugin": "openvswitch"}},
            headers=admin,
            timeout=10,
        ).json()["network"]["id"]
        port = requests.post(
            f"{quantum}/v1.1/tenants/demo/networks/{net}/ports", headers=admin, timeout=10
        ).json()["port"]["id"]

        user = {"X-Auth-Token": "alice:demo"}
        created = requests.post(
            f"{api}/v2.1/servers",
            json={
                "server": {
                    "name": "web1",
                    "imageRef": "cirros",
                    "flavorRef": "1",
                    "networks": [{"port": port}],
                    "launch": False,
                }
            },
            headers=user,
            timeout=30,
        )
        self.assertEqual(created.status_code, 202, created.text)
        server_id = created.json()["server"]["id"]
        self.assertEqual(created.headers["x-openstack-request-id"][:4], "req-")

        vifs = requests.get(
            f"{api}/v2.1/servers/{server_id}/os-virtual-interfaces", headers=user, timeout=10
        ).json()["virtual_interfaces"]
        self.assertEqual(len(vifs), 1)
        self.assertEqual(vifs[0]["OS-EXT-VIF-NET:net_id"], net)
        detail = requests.get(
            f"{quantum}/v1.1/tenants/demo/networks/{net}/ports/{port}/detail",
            headers=admin,
            timeout=10,
        ).json()["port"]
        self.assertEqual(detail["attachment"], {"id": vifs[0]["id"]})
        self.assertEqual(detail["configuration"]["vif_type"], "ovs")

        launched = requests.post(
            f"{api}/v2.1/servers/{server_id}/action",
            json={"launch": None},
            headers=user,
            timeout=10,
        )
        self.assertEqual(launched.status_code, 202, launched.text)
        status = requests.get(f"{api}/v2.1/servers/{server_id}", headers=user, timeout=10).json()
        self.assertEqual(status["server"]["status"], "BUILD")

        deleted = requests.delete(f"{api}/v2.1/servers/{server_id}", headers=user, timeout=30)
        self.assertEqual(deleted.status_code, 204, deleted.text)
        after = requests.get(
            f"{quantum}/v1.1/tenants/demo/networks/{net}/ports/{port}/attachment",
            headers=admin,
            timeout=10,
        ).json()
        self.assertEqual(after, {"attachment": {}})  # the user's port: detached, kept

        # gunicorn applies [wsgi] max_header_count (its default would be 100).
        many = "".join(f"X-Header-{n}: 1\r\n" for n in range(30))
        with socket.create_connection(("127.0.0.1", api_port), timeout=10) as client:
            client.sendall(f"GET /v2.1/ HTTP/1.1\r\nHost: x\r\n{many}\r\n".encode())
            status_line = client.makefile("rb").readline()
        self.assertEqual(status_line.split()[1], b"431", status_line)
        self.assertEqual(requests.get(f"{api}/v2.1/", timeout=10).status_code, 200)
