"""nova-all, the one-process cloud, end to end over its sockets."""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import tempfile
import time
import unittest
import urllib.parse

import requests
from lxml import etree

from tests.fixtures import processes


class NovaAllFixture(unittest.TestCase):
    """nova-all running as a subprocess, with its API and Quantum URLs."""

    #: More lines of the nova.conf, after the ``[DEFAULT]`` options (for a subclass).
    extra_config = ""

    def setUp(self) -> None:
        self.state = tempfile.mkdtemp(prefix="nova-all-")
        self.addCleanup(shutil.rmtree, self.state, ignore_errors=True)
        self.nova_all = processes.NovaAll(
            self.state,
            options={"DEFAULT": {"ram_allocation_ratio": 16}},
            defaults=self.extra_config,
        )
        self.addCleanup(self.nova_all.close)
        self.api = self.nova_all.api
        self.quantum = f"{self.nova_all.quantum_url}/v1.1/tenants/demo"
        self.process = self.nova_all.start()
        self.wait_for(self.nova_all.answers, "nova-all to answer", 60)

    def wait_for(self, predicate, what: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.fail(f"nova-all exited:\n{self.nova_all.log_tail()}")
            try:
                if predicate():
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.2)
        self.fail(f"timed out waiting for {what}")

    def get(self, url, token="alice:demo"):
        return requests.get(url, headers={"X-Auth-Token": token}, timeout=10)

    def send(self, method, url, body=None, token="alice:demo"):
        response = requests.request(
            method, url, json=body, headers={"X-Auth-Token": token}, timeout=30
        )
        self.assertLess(response.status_code, 300, response.text)
        return response.json() if response.content else None


class NovaAllTestCase(NovaAllFixture):
    def test_define_list_launch_active_delete(self):
        admin = "admin:demo"
        lb = self.send("POST", f"{self.quantum}/networks", {"network": {"name": "lb"}}, admin)
        ovs = self.send(
            "POST",
            f"{self.quantum}/networks",
            {"network": {"name": "ovs", "plugin": "openvswitch"}},
            admin,
        )
        lb_net, ovs_net = lb["network"]["id"], ovs["network"]["id"]
        user_port = self.send("POST", f"{self.quantum}/networks/{ovs_net}/ports", token=admin)[
            "port"
        ]["id"]

        server = {
            "name": "web1",
            "imageRef": "cirros",
            "flavorRef": "1",
            "networks": [{"uuid": lb_net}, {"port": user_port}],
            "launch": False,
        }
        server_id = self.send("POST", f"{self.api}/servers", {"server": server})["server"]["id"]
        vifs = self.get(f"{self.api}/servers/{server_id}/os-virtual-interfaces").json()[
            "virtual_interfaces"
        ]
        self.assertEqual([v["OS-EXT-VIF-NET:net_id"] for v in vifs], [lb_net, ovs_net])
        self.assertEqual(
            self.get(f"{self.api}/servers/{server_id}").json()["server"]["status"], "DEFINED"
        )

        self.send("POST", f"{self.api}/servers/{server_id}/action", {"launch": None})
        self.wait_for(
            lambda: (
                self.get(f"{self.api}/servers/{server_id}").json()["server"]["status"] == "ACTIVE"
            ),
            "the server to go ACTIVE",
        )

        # The domain XML was written from the ports' configurations, in VIF order.
        path = os.path.join(self.state, "instances", server_id, "libvirt.xml")
        interfaces = etree.parse(path).findall("./devices/interface")
        self.assertEqual(
            [i.find("mac").get("address") for i in interfaces], [v["mac_address"] for v in vifs]
        )
        self.assertEqual(interfaces[0].find("source").get("bridge"), ("brq" + lb_net)[:15])
        self.assertIsNone(interfaces[0].find("virtualport"))
        self.assertEqual(interfaces[1].find("source").get("bridge"), "br-int")
        self.assertEqual(
            interfaces[1].find("virtualport/parameters").get("interfaceid"), vifs[1]["id"]
        )

        self.send("DELETE", f"{self.api}/servers/{server_id}")
        self.wait_for(
            lambda: self.get(f"{self.api}/servers/{server_id}").status_code == 404,
            "the server to be deleted",
        )
        self.assertEqual(
            self.get(f"{self.quantum}/networks/{lb_net}/ports", admin).json(), {"ports": []}
        )
        attachment = self.get(
            f"{self.quantum}/networks/{ovs_net}/ports/{user_port}/attachment", admin
        ).json()
        self.assertEqual(attachment, {"attachment": {}})  # the user's port: kept, detached
        self.assertFalse(os.path.exists(os.path.dirname(path)))

    def test_no_valid_host_is_an_error_with_a_fault(self):
        body = {
            "server": {
                "name": "lost",
                "imageRef": "cirros",
                "flavorRef": "1",
                "networks": "none",
                "availability_zone": "nowhere",
            }
        }
        big = self.send("POST", f"{self.api}/servers", body)["server"]["id"]
        self.wait_for(
            lambda: self.get(f"{self.api}/servers/{big}").json()["server"]["status"] == "ERROR",
            "the server to fail: " + self.get(f"{self.api}/servers/{big}").text[:300],
        )
        fault = self.get(f"{self.api}/servers/{big}", "admin:admin").json()["server"]["fault"]
        self.assertEqual(
            (fault["message"], fault["details"]),
            (
                "No valid host was found. There are not enough hosts available.",
                "1 host: AvailabilityZoneFilter removed 1 (in zone nova, not nowhere)",
            ),
        )

    def test_head_and_204_answers_keep_the_connection_in_step(self):
        """No body after HEAD, no Content-Length on 204: a keep-alive client reads on cleanly."""
        for base, path, token in (
            (self.api, "/servers", "alice:demo"),  # 405: HEAD is not routed
            (self.quantum, "/networks", "demo"),  # 200
        ):
            url = urllib.parse.urlsplit(base)
            with socket.create_connection((url.hostname, url.port), timeout=10) as connection:
                request = f"Host: x\r\nX-Auth-Token: {token}\r\n\r\n"
                connection.sendall(
                    f"HEAD {url.path}{path} HTTP/1.1\r\n{request}"
                    f"GET {url.path}{path} HTTP/1.1\r\n{request}".encode()
                )
                answers = b""
                while answers.count(b"HTTP/1.1 ") < 2 or not answers.endswith(b"}"):
                    chunk = connection.recv(65536)
                    self.assertTrue(chunk, f"connection closed after {answers!r}")
                    answers += chunk
            with self.subTest(url=base + path):
                head, _, rest = answers.partition(b"\r\n\r\n")
                self.assertTrue(rest.startswith(b"HTTP/1.1 200 "), answers)  # no body between
                self.assertIn(b"Content-Length", head)
        server = {"name": "gone", "imageRef": "cirros", "flavorRef": "1", "launch": False}
        server_id = self.send("POST", f"{self.api}/servers", {"server": server})["server"]["id"]
        url = urllib.parse.urlsplit(self.api)
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
        self.addCleanup(connection.close)
        connection.request(
            "DELETE", f"{url.path}/servers/{server_id}", headers={"X-Auth-Token": "alice:demo"}
        )
        response = connection.getresponse()
        self.assertEqual((response.status, response.read()), (204, b""))
        self.assertIsNone(response.getheader("Content-Length"))
