"""A real guest through nova-all: libvirt's qemu driver, the image store, the console.

The tiny guest image (``tools/guest-image``) is imported with ``nova-manage
image import`` as Nova's three images (kernel ``aki``, ramdisk ``ari``,
machine ``ami`` naming them in ``kernel_id``/``ramdisk_id`` with
``os_command_line``) and booted by ``nova-all`` on the test libvirtd
(``NOVA_TEST_LIBVIRT_URI``, TCG). Everything is read from the guest's own
console through ``os-getConsoleOutput``: it booted, found its config drive,
read its uuid, hostname and the ``ping`` key of its server metadata, saw the
NIC Nova gave it. Delete leaves no domain, no QEMU process, no tap and no
instance directory.
"""

from __future__ import annotations

import os
import subprocess

import libvirt
import pytest

from tests.fixtures import guests
from tests.fixtures.processes import ADMIN


@pytest.mark.guests
@pytest.mark.timeout(240)
class RealGuestTestCase(guests.GuestCloudTestCase):
    def test_guest_boots_reads_its_config_drive_and_goes_without_a_trace(self):
        network = self.quantum_network(plugin="tap")
        server_id = self.create_server(
            name="Guest One",
            imageRef=self.image,
            networks=[{"uuid": network}],
            metadata={"ping": "10.9.9.9,10.9.9.8"},
            config_drive=True,
        )
        self.wait_status(server_id, "ACTIVE", timeout=120)
        (vif,) = self.http("GET", f"{self.api}/servers/{server_id}/os-virtual-interfaces").json()[
            "virtual_interfaces"
        ]
        domain = self.connection.lookupByUUIDString(server_id)
        self.assertTrue(domain.isActive())
        (pid,) = guests.qemu_pids(server_id)
        tap = ("tap" + vif["id"])[:14]
        namespace = guests.netns()
        if namespace:
            self.assertIn(tap, guests.links(namespace))

        output = self.wait_console(server_id, "PING 10.9.9.8")
        facts = guests.console_facts(output)
        self.assertIn("BOOT", facts)
        self.assertEqual(facts["CONFIG-DRIVE"], ["/dev/vdb"])
        self.assertEqual(facts["UUID"], [server_id])
        self.assertEqual(facts["NAME"], ["Guest One"])
        self.assertEqual(facts["HOSTNAME"], ["guest-one"])
        self.assertEqual(facts["PEERS"], ["10.9.9.9,10.9.9.8"])
        # The NIC Nova gave it (no DHCP server or address on a tap network).
        self.assertEqual(facts["IP"], [f"eth0 {vif['mac_address']} none"])
        self.assertEqual(facts["LISTEN"], ["tcp 80"])
        verdicts = guests.ping_verdicts(output)
        self.assertLessEqual({("10.9.9.9", "fail"), ("10.9.9.8", "fail")}, set(verdicts))
        self.assertNotIn("\r", output)

        # length: the last N lines; 0 none; -1, null, or none given: all.
        last = self.console(server_id, 2).json()["output"]
        self.assertEqual(len(last.split("\n")), 2, last)
        # (the last may be a line the guest is still writing)
        self.assertRegex(last.split("\n")[0], r"^PING \S+ (ok|fail)$")
        self.assertEqual(self.console(server_id, "0").json()["output"], "")
        self.assertIn("GUEST BOOT", self.console(server_id).json()["output"])
        self.assertIn("GUEST BOOT", self.console(server_id, -1).json()["output"])
        self.assertIn("GUEST BOOT", self.console(server_id, None).json()["output"])
        for bad in (-2, "abc", 1.5, "-2", True):
            response = self.console(server_id, bad, expect=400)
            self.assertIn("badRequest", response.json())
        self.console(server_id, 5, token="mallory:other", expect=404)

        # The instance directory: the XML, the console log, the disk overlay, the config drive.
        directory = os.path.join(self.state, "instances", server_id)
        self.assertLessEqual(
            {"libvirt.xml", "console.log", "disk", "disk.config"}, set(os.listdir(directory))
        )

        self.http("DELETE", f"{self.api}/servers/{server_id}", expect=204)
        self.wait_for(
            "the server to go",
            lambda: (
                self.session.get(
                    f"{self.api}/servers/{server_id}", headers={"X-Auth-Token": ADMIN}, timeout=30
                ).status_code
                == 404
            ),
            60,
        )
        with self.assertRaises(libvirt.libvirtError):
            self.connection.lookupByUUIDString(server_id)
        self.assertFalse(os.path.exists(f"/proc/{pid}/cmdline") and guests.qemu_pids(server_id))
        self.assertFalse(os.path.exists(directory))
        if namespace:
            self.assertNotIn(tap, guests.links(namespace))

    def make_bridge(self, network: str, port: str) -> None:
        """Make the Linux bridge a port's configuration names, in the test namespace.

        The bridge plugin's agent will make it; until then the test does (libvirt
        enslaves each guest's tap to it).
        """
        namespace = guests.netns()
        if not namespace:
            self.skipTest("NOVA_TEST_NETNS is not set: no namespace for the bridges")
        detail = self.quantum("GET", f"/networks/{network}/ports/{port}/detail")
        bridge = detail["port"]["configuration"]["bridge"]
        subprocess.run(["ip", "-n", namespace, "link", "add", bridge, "type", "bridge"], check=True)
        self.addCleanup(subprocess.run, ["ip", "-n", namespace, "link", "del", bridge], check=False)
        subprocess.run(["ip", "-n", namespace, "link", "set", bridge, "up"], check=True)

    def test_guests_reach_each_other_on_their_bridge_only(self):
        # Two networks, the same addresses: only L2 separates them. The
        # addresses reach the guests through the config drive (the port
        # configuration's ip_address/netmask, set here by the admin).
        net_a = self.quantum_network(plugin="linuxbridge")
        net_b = self.quantum_network(plugin="linuxbridge")
        addresses = {"a1": "10.77.0.11", "a2": "10.77.0.12", "b1": "10.77.0.13"}
        ports = {
            name: self.quantum_port(
                net_a if name.startswith("a") else net_b,
                configuration={"ip_address": address, "netmask": "255.255.255.0"},
            )
            for name, address in addresses.items()
        }
        self.make_bridge(net_a, ports["a1"])
        self.make_bridge(net_b, ports["b1"])
        servers = {
            name: self.create_server(
                name=name,
                imageRef=self.image,
                networks=[{"port": ports[name]}],
                metadata={"ping": ",".join(a for n, a in addresses.items() if n != name)},
                config_drive=True,
            )
            for name in addresses
        }
        for server_id in servers.values():
            self.wait_status(server_id, "ACTIVE", timeout=120)

        self.wait_console(servers["a1"], "PING 10.77.0.12 ok")
        outputs = {
            "a1": self.wait_console(servers["a1"], "PING 10.77.0.13 fail"),
            "a2": self.wait_console(servers["a2"], "PING 10.77.0.11 ok"),
        }
        outputs["b1"] = self.wait_console(servers["b1"], "PING 10.77.0.12 fail")
        for name, address in addresses.items():
            if name not in outputs:
                continue
            (ip_line,) = guests.console_facts(outputs[name])["IP"]
            self.assertRegex(ip_line, rf"^eth0 \S+ {address}/24 static$")
        # Across networks, nothing answers: A's guests never reach B1, nor B1 them.
        self.assertNotIn(("10.77.0.13", "ok"), guests.ping_verdicts(outputs["a1"]))
        self.assertEqual(
            {verdict for _address, verdict in guests.ping_verdicts(outputs["b1"])}, {"fail"}
        )
        for server_id in servers.values():
            self.http("DELETE", f"{self.api}/servers/{server_id}", expect=204)
