"""``quantum-agent`` against a real ``quantum-server``, with real packets and no guests.

In a private network namespace (``NOVA_TEST_NETNS``, or one of the test's
own) the test makes the edge bindings compute would make: a veth pair per
VIF, its host end named ``tap`` + the VIF uuid's first 11 characters (with
libvirt's tap MAC, the guest's with first byte 0xfe), or that end added to
the Open vSwitch integration bridge with ``external_ids:iface-id`` (the
userspace switch of ``tools/services/openvswitch.sh``, ``NOVA_TEST_OVSDB``).
The other end sits in a child namespace of its own, playing the guest.
Everything else goes through the Quantum API only: attach, detach, delete;
the test reads the bridges, tags, op-status, pings between the "guests" and
asks dnsmasq for a lease with busybox's udhcpc.

Networks A and B have the same CIDR, so only L2 keeps them apart. The
subnet data (``dhcp_server``, ``cidr``, a port's ``ip_address``) is set as
configuration keys by the admin: the names h17-l3's subnets fill in
(/work/notes/l3-contract.md), read by the agent from the port configuration.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid

from tests.fixtures import databases
from tests.fixtures import guests as guest_fixtures
from tests.fixtures import processes

CIDR = "10.0.0.0/24"
DHCP_SERVER = "10.0.0.2"
DETACH_BOUND = 5.0
run = guest_fixtures.run


class Guest:
    """A child namespace with eth0, the peer of a tap named as compute names a VIF's."""

    def __init__(self, netns: str, vif_id: str, mac: str) -> None:
        self.vif_id = vif_id
        self.netns = netns
        self.mac = mac
        self.tap = ("tap" + vif_id)[:14]
        self.name = f"g-{vif_id[:8]}"
        run("ip", "netns", "add", self.name)
        run("ip", "-n", self.name, "link", "set", "lo", "up")
        run(
            "ip", "-n", netns, "link", "add", self.tap, "address", "fe" + mac[2:],
            "type", "veth", "peer", "name", "eth0", "address", mac, "netns", self.name,
        )  # fmt: skip
        run("ip", "-n", netns, "link", "set", self.tap, "up")
        run("ip", "-n", self.name, "link", "set", "eth0", "up")
        # Partial checksums would reach a userspace switch unfinished.
        run("ip", "netns", "exec", self.name, "ethtool", "-K", "eth0", "tx", "off", check=False)

    def address(self, address: str) -> None:
        run("ip", "-n", self.name, "addr", "add", f"{address}/24", "dev", "eth0")

    def addresses(self) -> str:
        return run("ip", "-n", self.name, "-4", "-o", "addr", "show", "dev", "eth0").stdout

    def reaches(self, address: str) -> bool:
        result = run(
            "ip",
            "netns",
            "exec",
            self.name,
            "busybox",
            "ping",
            "-c",
            "1",
            "-W",
            "1",
            address,
            check=False,
        )
        return result.returncode == 0

    def dhcp(self, timeout: int = 4) -> subprocess.CompletedProcess:
        """Ask for a lease once (busybox udhcpc; -n: give up if none, -q: quit with one)."""
        return run(
            "ip", "netns", "exec", self.name, "busybox", "udhcpc", "-i", "eth0", "-n", "-q",
            "-f", "-t", str(timeout), "-T", "1", "-s", "/bin/true",
            check=False,
        )  # fmt: skip

    def delete(self) -> None:
        run("ip", "-n", self.netns, "link", "del", self.tap, check=False)
        run("ip", "netns", "del", self.name, check=False)


def random_mac() -> str:
    return "fa:16:3e:" + ":".join(f"{b:02x}" for b in os.urandom(3))


class AgentTestCase(processes.CloudTestCase):
    """A quantum-server, a quantum-agent, and the edge bindings of a host in a namespace."""

    plugin = "linuxbridge"
    poll_interval = 0.2

    def setUp(self) -> None:
        super().setUp()
        if os.geteuid() != 0 or not shutil.which("ip"):
            self.skipTest("needs root and iproute2 (network namespaces)")
        self.netns = os.environ.get("NOVA_TEST_NETNS") or f"nova-agent-{uuid.uuid4().hex[:8]}"
        if self.netns not in run("ip", "netns", "list").stdout.split():
            run("ip", "netns", "add", self.netns)
            self.addCleanup(run, "ip", "netns", "del", self.netns, check=False)
            run("ip", "-n", self.netns, "link", "set", "lo", "up")
        self.guests: list[Guest] = []
        self.addCleanup(self._delete_guests)
        self.agent_state = os.path.join(self.state, "agent")
        self.start_services()

    def start_services(self) -> None:
        """Start a quantum-server and a quantum-agent, each its own process."""
        self.quantum_url = self.start_quantum_server(
            f"core_plugin = {self.plugin}\nop_status_from_agents = true\n"
        )
        self.agent_config = self.write_config(
            "agent.conf",
            f"[DEFAULT]\nstate_path = {self.agent_state}\n"
            f"[agent]\nquantum_url = {self.quantum_url}\nadmin_token = admin:admin\n"
            f"{self.agent_options()}",
        )
        self.start_agent()

    def agent_options(self) -> str:
        """Return the [agent] options of the test (after quantum_url and admin_token)."""
        return f"netns = {self.netns}\nplugins = {self.plugin}\npolling_interval = 0.3\n"

    def start_agent(self) -> None:
        self.start("quantum-agent", "quantum-agent", "--config-file", self.agent_config)

    def _delete_guests(self) -> None:
        for guest in self.guests:
            guest.delete()
        # Whatever the agent left: its dnsmasq processes, by their pid files.
        dhcp_dir = os.path.join(self.agent_state, "dhcp")
        for network_id in os.listdir(dhcp_dir) if os.path.isdir(dhcp_dir) else ():
            run("ip", "netns", "del", f"qdhcp-{network_id}", check=False)
            try:
                with open(os.path.join(dhcp_dir, network_id, "pid"), encoding="ascii") as f:
                    os.kill(int(f.read().strip()), 9)
            except (OSError, ValueError):
                pass

    # --- helpers ---------------------------------------------------------------

    def network(self, subnet: bool) -> str:
        configuration = {"cidr": CIDR, "dhcp_server": DHCP_SERVER} if subnet else {}
        return self.quantum_network(configuration=configuration)

    def port(self, network_id: str, ip_address: str | None = None) -> str:
        configuration = {"ip_address": ip_address} if ip_address else {}
        return self.quantum_port(network_id, configuration=configuration)

    def guest(self, network_id: str, port_id: str, address: str | None = None) -> Guest:
        guest = Guest(self.netns, str(uuid.uuid4()), random_mac())
        self.guests.append(guest)
        self.plug(guest)
        if address:
            guest.address(address)
        self.attach(network_id, port_id, guest)
        return guest

    def plug(self, guest: Guest) -> None:
        """The edge binding compute makes (Linux bridge: the tap exists, on no bridge)."""

    def attach(self, network_id: str, port_id: str, guest: Guest) -> None:
        body = {"attachment": {"id": guest.vif_id}}
        self.quantum("PUT", f"/networks/{network_id}/ports/{port_id}/attachment", body)

    def detach(self, network_id: str, port_id: str) -> None:
        self.quantum("DELETE", f"/networks/{network_id}/ports/{port_id}/attachment")

    def op_status(self, network_id: str, port_id: str) -> str:
        return self.quantum("GET", f"/networks/{network_id}/ports/{port_id}")["port"]["op-status"]

    def wait_op_status(self, network_id: str, port_id: str, status: str) -> None:
        self.wait_for(
            f"port {port_id} op-status {status}",
            lambda: self.op_status(network_id, port_id) == status,
            10,
        )

    def masters(self) -> dict[str, str | None]:
        """Return each device of the namespace and the bridge it is enslaved to."""
        return guest_fixtures.masters(self.netns)

    def wired(self, guest: Guest) -> str | None:
        return self.masters().get(guest.tap)

    def assertLeasesAndIsolation(self, a1, a2) -> None:
        """DHCP: A1's MAC gets its fixed IP, a MAC that is no port's nothing; then
        L2: A1 reaches A2, not B1 (same CIDR, other network)."""
        self.wait_for("dnsmasq of network A", lambda: len(self.dnsmasq_pids()) == 1, 10)
        self.wait_for("A1's lease", lambda: a1.dhcp().returncode == 0, 15)
        lease = a1.dhcp()
        self.assertIn("lease of 10.0.0.11 obtained", lease.stderr + lease.stdout)
        a1.address("10.0.0.11")
        self.assertUnknownMacGetsNoLease(a2)
        self.assertTrue(a1.reaches("10.0.0.12"))
        self.assertFalse(a1.reaches("10.0.0.13"))

    def assertUnknownMacGetsNoLease(self, guest: Guest) -> None:
        """A guest on the network that takes a MAC of no port gets no answer."""
        run("ip", "-n", guest.name, "link", "set", "eth0", "address", random_mac())
        try:
            self.assertNotEqual(guest.dhcp(timeout=2).returncode, 0, "an unknown MAC got a lease")
        finally:
            run("ip", "-n", guest.name, "link", "set", "eth0", "address", guest.mac)

    def dnsmasq_pids(self) -> list[int]:
        return guest_fixtures.dnsmasq_pids(self.agent_state)


class LinuxBridgeAgentTest(AgentTestCase):
    plugin = "linuxbridge"

    def bridge(self, network_id: str) -> str:
        return ("brq" + network_id)[:15]

    def test_wiring_isolation_detach_dhcp_restart_teardown(self):
        net_a, net_b = self.network(subnet=True), self.network(subnet=False)
        port_a1 = self.port(net_a, ip_address="10.0.0.11")
        port_a2, port_b1 = self.port(net_a), self.port(net_b)
        a1 = self.guest(net_a, port_a1)
        a2 = self.guest(net_a, port_a2, "10.0.0.12")
        b1 = self.guest(net_b, port_b1, "10.0.0.13")
        for guest, net in ((a1, net_a), (a2, net_a), (b1, net_b)):
            self.wait_for(
                f"{guest.tap} on {self.bridge(net)}",
                lambda g=guest, n=net: self.wired(g) == self.bridge(n),
                10,
                state=self.masters,
            )
        for net, port in ((net_a, port_a1), (net_a, port_a2), (net_b, port_b1)):
            self.wait_op_status(net, port, "UP")
        # Attached to an interface-id with no edge binding on this host: DOWN.
        port_x = self.port(net_b)
        body = {"attachment": {"id": str(uuid.uuid4())}}
        self.quantum("PUT", f"/networks/{net_b}/ports/{port_x}/attachment", body)

        self.assertLeasesAndIsolation(a1, a2)

        # Detach through the API only: off the bridge within the bound, DOWN, no packets.
        started = time.monotonic()
        self.detach(net_a, port_a2)
        self.wait_for("A2 off the bridge", lambda: self.wired(a2) is None, DETACH_BOUND)
        self.assertLess(time.monotonic() - started, DETACH_BOUND)
        self.wait_op_status(net_a, port_a2, "DOWN")
        self.assertFalse(a1.reaches("10.0.0.12"))
        # Attached to B's port instead: on B's bridge, reaching B1.
        port_b2 = self.port(net_b)
        self.attach(net_b, port_b2, a2)
        self.wait_for("A2 on B", lambda: self.wired(a2) == self.bridge(net_b), DETACH_BOUND)
        self.assertTrue(a2.reaches("10.0.0.13"))
        self.detach(net_b, port_b2)
        self.attach(net_a, port_a2, a2)
        self.wait_for("A2 back on A", lambda: self.wired(a2) == self.bridge(net_a), DETACH_BOUND)
        self.assertTrue(a1.reaches("10.0.0.12"))

        # Restart (killed, so nothing is cleaned up): the next start resyncs, same dnsmasq.
        pids = self.dnsmasq_pids()
        self.kill("quantum-agent")
        self.detach(net_a, port_a2)
        self.start_agent()
        self.wait_for("A2 unwired after restart", lambda: self.wired(a2) is None, 10)
        self.assertEqual(self.wired(a1), self.bridge(net_a))
        self.assertEqual(self.dnsmasq_pids(), pids)
        self.assertEqual(a1.dhcp().returncode, 0)

        self.assertEqual(self.op_status(net_b, port_x), "DOWN")
        # The edge binding goes (compute unplugged it), the attachment stays: DOWN.
        b1.delete()
        self.wait_op_status(net_b, port_b1, "DOWN")

        # Teardown through the API: no dnsmasq, no DHCP namespace, no agent bridge.
        for net, port in ((net_a, port_a1), (net_b, port_b1), (net_b, port_x)):
            self.detach(net, port)
        ports = (
            (net_a, port_a1), (net_a, port_a2), (net_b, port_b1), (net_b, port_b2), (net_b, port_x)
        )  # fmt: skip
        for net, port in ports:
            self.quantum("DELETE", f"/networks/{net}/ports/{port}")
        for net in (net_a, net_b):
            self.quantum("DELETE", f"/networks/{net}")
        self.wait_for("dnsmasq stopped", lambda: not self.dnsmasq_pids(), 10)
        for guest in self.guests:
            guest.delete()
        self.wait_for(
            "the agent's bridges removed",
            lambda: not {self.bridge(net_a), self.bridge(net_b)} & set(self.masters()),
            10,
            state=self.masters,
        )
        self.wait_for(
            "the DHCP namespace removed",
            lambda: f"qdhcp-{net_a}" not in run("ip", "netns", "list").stdout,
            10,
        )


class OpenVSwitchAgentTest(AgentTestCase):
    plugin = "openvswitch"

    def setUp(self) -> None:
        self.ovsdb = os.environ.get("NOVA_TEST_OVSDB")
        if not self.ovsdb:
            if "openvswitch" in databases.required_services():
                self.fail("NOVA_TEST_OVSDB is not set but openvswitch is required")
            self.skipTest("NOVA_TEST_OVSDB is not set; run ./run_tests.sh to start Open vSwitch")
        super().setUp()

    def agent_options(self) -> str:
        return (
            super().agent_options()
            + f"ovsdb_connection = {self.ovsdb}\novs_datapath_type = netdev\n"
        )

    def vsctl(self, *args: str) -> str:
        return guest_fixtures.vsctl(self.ovsdb, *args)

    def plug(self, guest: Guest) -> None:
        # As libvirt's <virtualport type='openvswitch'> does.
        self.wait_for("br-int", lambda: "br-int" in self.vsctl("list-br"), 10)
        self.vsctl(
            "--", "add-port", "br-int", guest.tap,
            "--", "set", "Interface", guest.tap,
            f"external_ids:iface-id={guest.vif_id}", f"external_ids:attached-mac={guest.mac}",
        )  # fmt: skip

    def tag(self, guest: Guest) -> int | None:
        value = self.vsctl("get", "Port", guest.tap, "tag")
        return int(value) if value.isdigit() else None

    def _delete_guests(self) -> None:
        names = [guest.tap for guest in self.guests]
        dhcp_dir = os.path.join(self.agent_state, "dhcp")
        if os.path.isdir(dhcp_dir):
            names += [("qdh" + network_id)[:14] for network_id in os.listdir(dhcp_dir)]
        for name in names:
            run("ovs-vsctl", f"--db={self.ovsdb}", "--if-exists", "del-port", name, check=False)
        super()._delete_guests()

    def test_vlans_isolation_detach_dhcp_restart_teardown(self):
        net_a, net_b = self.network(subnet=True), self.network(subnet=False)
        port_a1 = self.port(net_a, ip_address="10.0.0.11")
        port_a2, port_b1 = self.port(net_a), self.port(net_b)
        a1 = self.guest(net_a, port_a1)
        a2 = self.guest(net_a, port_a2, "10.0.0.12")
        b1 = self.guest(net_b, port_b1, "10.0.0.13")
        self.wait_for("tags", lambda: None not in {self.tag(g) for g in (a1, a2, b1)}, 10)
        tag_a, tag_b = self.tag(a1), self.tag(b1)
        self.assertEqual(self.tag(a2), tag_a)
        self.assertNotEqual(tag_a, tag_b)
        self.assertNotIn(4095, (tag_a, tag_b))
        for net, port in ((net_a, port_a1), (net_a, port_a2), (net_b, port_b1)):
            self.wait_op_status(net, port, "UP")

        self.assertLeasesAndIsolation(a1, a2)

        started = time.monotonic()
        self.detach(net_a, port_a2)
        self.wait_for("A2 on the dead VLAN", lambda: self.tag(a2) == 4095, DETACH_BOUND)
        self.assertLess(time.monotonic() - started, DETACH_BOUND)
        self.wait_op_status(net_a, port_a2, "DOWN")
        self.assertFalse(a1.reaches("10.0.0.12"))
        self.attach(net_a, port_a2, a2)
        self.wait_for("A2 back on A", lambda: self.tag(a2) == tag_a, DETACH_BOUND)
        self.assertTrue(a1.reaches("10.0.0.12"))

        # Restart: the VLANs the ports carry are kept, the detach done meanwhile applied.
        self.kill("quantum-agent")
        self.detach(net_a, port_a2)
        self.start_agent()
        self.wait_for("A2 unwired after restart", lambda: self.tag(a2) == 4095, 10)
        self.assertEqual((self.tag(a1), self.tag(b1)), (tag_a, tag_b))
        self.assertTrue(a1.reaches(DHCP_SERVER))

        for net, port in ((net_a, port_a1), (net_b, port_b1)):
            self.detach(net, port)
        for net, port in ((net_a, port_a1), (net_a, port_a2), (net_b, port_b1)):
            self.quantum("DELETE", f"/networks/{net}/ports/{port}")
        for net in (net_a, net_b):
            self.quantum("DELETE", f"/networks/{net}")
        self.wait_for("dnsmasq stopped", lambda: not self.dnsmasq_pids(), 10)
        self.wait_for(
            "the DHCP port removed",
            lambda: (
                not [p for p in self.vsctl("list-ports", "br-int").split() if p.startswith("qdh")]
            ),
            10,
        )
        # The namespace goes last, after the DHCP port.
        self.wait_for(
            "the DHCP namespace removed",
            lambda: f"qdhcp-{net_a}" not in run("ip", "netns", "list").stdout,
            10,
        )


class EmbeddedAgentTest(AgentTestCase):
    """nova-all with the embedded Quantum runs the agent in a thread.

    (``[quantum] agent_config_file``).
    """

    plugin = "linuxbridge"

    def start_services(self) -> None:
        # The agent's own file: its [agent] options; URL and token come from [quantum].
        agent_config = self.write_config(
            "agent.conf",
            f"[DEFAULT]\ncore_plugin = {self.plugin}\nop_status_from_agents = true\n"
            f"[agent]\n{self.agent_options()}",
        )
        config = self.nova_config(extra=f"[quantum]\nagent_config_file = {agent_config}\n")
        self.start_nova_all(config)
        self.agent_state = self.state  # the embedded service's state_path is Nova's

    def test_wires_and_unwires_without_nova(self):
        network = self.network(subnet=False)
        port = self.port(network)
        guest = self.guest(network, port)
        bridge = ("brq" + network)[:15]
        self.wait_for("the tap on its bridge", lambda: self.wired(guest) == bridge, 10)
        self.wait_op_status(network, port, "UP")
        self.detach(network, port)
        self.wait_for("the tap off its bridge", lambda: self.wired(guest) is None, DETACH_BOUND)
        self.wait_op_status(network, port, "DOWN")
