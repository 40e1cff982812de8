"""The proof of issue 17: real guests, real packets, the two layers of plugging.

nova-all (embedded Quantum, with the quantum-agent in it: ``[quantum]
agent_config_file``) boots real guests on the test libvirtd (TCG) in the
namespace ``NOVA_TEST_NETNS``; the agent wires their taps (Linux bridge
plugin) or Open vSwitch ports (VLAN tags on ``br-int``, userspace datapath)
and runs one dnsmasq per network with a subnet. Networks A and B have the
same CIDR, so only L2 keeps them apart; each guest is told (server metadata
``ping``) to ping the others, and every verdict is read from its console
through ``os-getConsoleOutput``:

* A1 and A2 reach each other; B1 reaches neither.
* A2's port attachment removed through the Quantum API only: A1 loses A2
  within ``DETACH_BOUND`` s; attached again, A1 reaches it again (no Nova call).
* A port on B hot-plugged into A1 (``os-interface``): A1 reaches B1 over the
  new NIC; detached: it no longer does.
* Everything deleted: no guest, tap, OVS port, bridge member, dnsmasq or
  DHCP namespace is left.

One test per plugin, three guests shared by all the assertions.
"""

from __future__ import annotations

import os
import time

import libvirt
import pytest

from tests.fixtures import databases
from tests.fixtures import guests
from tests.fixtures.processes import ADMIN

CIDR = "10.0.0.0/24"
ADDRESSES = {"a1": "10.0.0.11", "a2": "10.0.0.12", "b1": "10.0.0.21"}
HOTPLUG_ADDRESS = "10.0.0.31"
#: Seconds from a detach in Quantum to the peer's loss, as A1's console reports it.
DETACH_BOUND = 5.0
#: The guest's verdicts come every 1-3 s (1 s sleep, a 1 s ping per NIC).
VERDICT_SLACK = 4.0


class GuestNetworkingTestCase(guests.GuestCloudTestCase):
    __test__ = False  # the plugins' cases below run it
    plugin = "linuxbridge"

    def nova_options(self) -> dict:
        self.namespace = guests.netns()
        if not self.namespace:
            self.skipTest("NOVA_TEST_NETNS is not set (run ./run_tests.sh as root)")
        agent = {
            "netns": self.namespace,
            "plugins": self.plugin,
            "polling_interval": "0.3",
        }
        agent.update(self.agent_options())
        sections = {"DEFAULT": {"op_status_from_agents": "true"}, "agent": agent}
        text = "".join(
            f"[{name}]\n" + "".join(f"{k} = {v}\n" for k, v in values.items())
            for name, values in sections.items()
        )
        path = self.write_config("agent.conf", text)
        return {"quantum": {"agent_config_file": path}}

    def agent_options(self) -> dict:
        return {}

    # --- what the host holds ---------------------------------------------------------

    def taps(self) -> set[str]:
        return {name for name in guests.links(self.namespace) if name.startswith("tap")}

    def leftovers(self) -> list[str]:
        """Return what a deleted cloud must not leave behind, described."""
        left = [f"tap {tap}" for tap in self.taps()]
        left += [
            f"{name} on bridge {master}"
            for name, master in guests.masters(self.namespace).items()
            if master and master.startswith("brq")
        ]
        left += [f"dnsmasq {pid}" for pid in guests.dnsmasq_pids(self.state)]
        left += [
            f"namespace {name}"
            for name in guests.run("ip", "netns", "list").stdout.split()
            if name.startswith("qdhcp-")
        ]
        return left

    def destroy_leftovers(self, server_ids: list[str]) -> None:
        """After a failure: the guests and DHCP servers the cloud did not remove."""
        for server_id in server_ids:
            try:
                domain = self.connection.lookupByUUIDString(server_id)
            except libvirt.libvirtError:
                continue
            if domain.isActive():
                domain.destroy()
            domain.undefine()
        for pid in guests.dnsmasq_pids(self.state):
            try:
                os.kill(pid, 9)
            except OSError:
                pass

    def prepare_network(self, network: str) -> None:
        """What the plugin needs before a guest starts (Linux bridge: the bridge)."""
        bridge = ("brq" + network)[:15]
        guests.run("ip", "-n", self.namespace, "link", "add", bridge, "type", "bridge")
        self.addCleanup(guests.run, "ip", "-n", self.namespace, "link", "del", bridge, check=False)
        guests.run("ip", "-n", self.namespace, "link", "set", bridge, "up")

    # --- the verdicts on a console -----------------------------------------------------

    def verdicts(self, server_id: str) -> list[tuple[str, str]]:
        return guests.ping_verdicts(self.console(server_id).json()["output"])

    def wait_verdict(
        self, server_id: str, peer: str, verdict: str, timeout: float, since: int = 0
    ) -> float:
        """Wait for a ``PING peer verdict`` line after the first ``since`` verdicts; return when."""
        seen: dict = {"verdicts": []}

        def arrived():
            seen["verdicts"] = self.verdicts(server_id)
            return (peer, verdict) in seen["verdicts"][since:]

        self.wait_for(
            f"PING {peer} {verdict} from {server_id}",
            arrived,
            timeout,
            interval=0.25,
            state=lambda: seen["verdicts"][-8:],
        )
        return time.monotonic()

    def assertStaysUnreached(self, server_id: str, peer: str, rounds: int = 2) -> None:
        """The next ``rounds`` verdicts on ``peer`` are all ``fail``."""
        start = len(self.verdicts(server_id))
        self.wait_for(
            f"{rounds} verdicts on {peer}",
            lambda: len([v for v in self.verdicts(server_id)[start:] if v[0] == peer]) >= rounds,
            rounds * VERDICT_SLACK + 2,
            interval=0.5,
        )
        later = {v for p, v in self.verdicts(server_id)[start:] if p == peer}
        self.assertEqual(later, {"fail"}, f"{server_id} reached {peer}")

    # --- the proof ------------------------------------------------------------------------

    def test_isolation_detach_hotplug_teardown(self):
        subnet = {"cidr": CIDR, "gateway_ip": None, "enable_dhcp": True}
        net_a = self.quantum_network(name="A", plugin=self.plugin, subnet=subnet)
        net_b = self.quantum_network(name="B", plugin=self.plugin, subnet=subnet)
        for network in (net_a, net_b):
            self.prepare_network(network)
        started = time.monotonic()
        servers = {
            name: self.create_server(
                name=name,
                imageRef=self.image,
                networks=[{"uuid": net_a if name.startswith("a") else net_b, "fixed_ip": address}],
                metadata={"ping": ",".join(a for n, a in ADDRESSES.items() if n != name)},
                config_drive=True,
            )
            for name, address in ADDRESSES.items()
        }
        self.addCleanup(self.destroy_leftovers, list(servers.values()))
        for server_id in servers.values():
            self.wait_status(server_id, "ACTIVE", timeout=120)
        a1, a2, b1 = servers["a1"], servers["a2"], servers["b1"]

        # A1 <-> A2 over A; B1 reaches neither (nor they B1).
        self.wait_verdict(a1, ADDRESSES["a2"], "ok", guests.BOOT_TIMEOUT)
        self.wait_verdict(a2, ADDRESSES["a1"], "ok", guests.BOOT_TIMEOUT)
        network_up = time.monotonic() - started
        for name, server_id in servers.items():
            output = self.wait_console(server_id, "GUEST READY")
            (ip_line,) = guests.console_facts(output)["IP"][:1]
            self.assertRegex(ip_line, rf"^eth0 \S+ {ADDRESSES[name]}/24 (dhcp|static)$")
        self.wait_verdict(b1, ADDRESSES["a1"], "fail", guests.BOOT_TIMEOUT)
        self.wait_verdict(b1, ADDRESSES["a2"], "fail", guests.BOOT_TIMEOUT)
        self.assertStaysUnreached(b1, ADDRESSES["a1"])
        self.assertNotIn("ok", {v for _p, v in self.verdicts(b1)})
        self.assertNotIn((ADDRESSES["b1"], "ok"), self.verdicts(a1))
        # DHCP from the network's own dnsmasq: one per network with a subnet.
        self.assertEqual(len(guests.dnsmasq_pids(self.state)), 2)

        # A2's attachment removed in Quantum only: A1 loses A2; back, it reaches it again.
        (vif_a2,) = self.http("GET", f"{self.api}/servers/{a2}/os-virtual-interfaces").json()[
            "virtual_interfaces"
        ]
        (port_a2,) = [
            i["port_id"]
            for i in self.http("GET", f"{self.api}/servers/{a2}/os-interface").json()[
                "interfaceAttachments"
            ]
        ]
        attachment = f"/networks/{net_a}/ports/{port_a2}/attachment"
        since = len(self.verdicts(a1))
        detached_at = time.monotonic()
        self.quantum("DELETE", attachment)
        lost_at = self.wait_verdict(
            a1, ADDRESSES["a2"], "fail", DETACH_BOUND + VERDICT_SLACK, since
        )
        detach_to_loss = lost_at - detached_at
        self.assertStaysUnreached(a1, ADDRESSES["a2"])
        since = len(self.verdicts(a1))
        reattached_at = time.monotonic()
        self.quantum("PUT", attachment, {"attachment": {"id": vif_a2["id"]}})
        back_at = self.wait_verdict(a1, ADDRESSES["a2"], "ok", DETACH_BOUND + VERDICT_SLACK, since)

        # A port on B hot-plugged into A1: it reaches B1 over the new NIC; unplugged, not.
        port_b = self.quantum_port(net_b, fixed_ip=HOTPLUG_ADDRESS)
        base = f"{self.api}/servers/{a1}/os-interface"
        before = self.console(a1).json()["output"]
        plugged_at = time.monotonic()
        made = self.http(
            "POST", base, {"interfaceAttachment": {"port_id": port_b}}, expect=200
        ).json()["interfaceAttachment"]
        self.assertEqual((made["port_id"], made["net_id"]), (port_b, net_b))
        self.assertEqual(made["fixed_ips"], [{"subnet_id": None, "ip_address": HOTPLUG_ADDRESS}])
        output = self.wait_console(
            a1, f"{made['mac_addr']} {HOTPLUG_ADDRESS}/24 dhcp", after=len(before)
        )
        self.assertIn(f"GUEST NIC eth1 {made['mac_addr']} added", output)
        since = len(guests.ping_verdicts(output))
        reached_at = self.wait_verdict(a1, ADDRESSES["b1"], "ok", 30, since)
        hotplug_to_reach = reached_at - plugged_at
        since = len(self.verdicts(a1))
        self.http("DELETE", f"{base}/{port_b}", expect=202)
        self.wait_verdict(a1, ADDRESSES["b1"], "fail", 30, since)
        self.assertStaysUnreached(a1, ADDRESSES["b1"])
        self.wait_console(a1, "GUEST NIC eth1 removed")
        self.assertEqual(
            self.quantum("GET", f"/networks/{net_b}/ports/{port_b}/attachment")["attachment"], {}
        )
        # A2 is still reached over eth0.
        self.wait_verdict(a1, ADDRESSES["a2"], "ok", 10, len(self.verdicts(a1)))

        # Everything deleted: nothing left on the host.
        pids = {name: guests.qemu_pids(server_id) for name, server_id in servers.items()}
        for server_id in servers.values():
            self.http("DELETE", f"{self.api}/servers/{server_id}", expect=204)
        for server_id in servers.values():
            self.wait_for(
                f"server {server_id} to go",
                lambda s=server_id: (
                    self.session.get(
                        f"{self.api}/servers/{s}", headers={"X-Auth-Token": ADMIN}, timeout=30
                    ).status_code
                    == 404
                ),
                60,
            )
            with self.assertRaises(libvirt.libvirtError):
                self.connection.lookupByUUIDString(server_id)
        self.quantum("DELETE", f"/networks/{net_b}/ports/{port_b}")
        for network in (net_a, net_b):
            self.quantum("DELETE", f"/networks/{network}")
        self.wait_for(
            "nothing left on the host", lambda: not self.leftovers(), 15, state=self.leftovers
        )
        for name, found in pids.items():
            for pid in found:
                self.assertFalse(os.path.exists(f"/proc/{pid}"), f"QEMU of {name} still runs")
        self.assertLeftNothingOfThePlugin()
        print(
            f"\n[{self.plugin}] 3 guests network-up (A1<->A2 ok) {network_up:.1f} s after "
            f"create; detach->loss {detach_to_loss:.1f} s; re-attach->reach "
            f"{back_at - reattached_at:.1f} s; hot-plug->reach {hotplug_to_reach:.1f} s"
        )

    def assertLeftNothingOfThePlugin(self) -> None:
        """Linux bridge: no member on any bridge of the plugin (checked by ``leftovers``)."""


@pytest.mark.guests
@pytest.mark.timeout(300)
class LinuxBridgeGuestNetworkingTest(GuestNetworkingTestCase):
    __test__ = True
    plugin = "linuxbridge"


@pytest.mark.guests
@pytest.mark.timeout(300)
class OpenVSwitchGuestNetworkingTest(GuestNetworkingTestCase):
    __test__ = True
    plugin = "openvswitch"

    def setUp(self) -> None:
        self.ovsdb = os.environ.get("NOVA_TEST_OVSDB") or ""
        if not self.ovsdb:
            if "openvswitch" in databases.required_services():
                self.fail("NOVA_TEST_OVSDB is not set but openvswitch is required")
            self.skipTest("NOVA_TEST_OVSDB is not set; run ./run_tests.sh to start Open vSwitch")
        super().setUp()

    def agent_options(self) -> dict:
        return {"ovsdb_connection": self.ovsdb, "ovs_datapath_type": "netdev"}

    def prepare_network(self, network: str) -> None:
        """libvirt adds the taps to br-int, which the agent makes: wait for it."""
        self.wait_for("br-int", lambda: "br-int" in guests.vsctl(self.ovsdb, "list-br"), 20)

    def ports(self) -> list[str]:
        if "br-int" not in guests.vsctl(self.ovsdb, "list-br").split():
            return []
        return guests.vsctl(self.ovsdb, "list-ports", "br-int").split()

    def leftovers(self) -> list[str]:
        return super().leftovers() + [f"OVS port {port}" for port in self.ports()]

    def assertLeftNothingOfThePlugin(self) -> None:
        self.assertEqual(self.ports(), [])
