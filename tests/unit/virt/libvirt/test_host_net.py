"""Host plugging of VIFs over netlink, as root, inside a throw-away network namespace.

Every test creates its own namespace (``ip netns add nova-test-<random>``),
plugs through the VIF drivers with ``HostNetwork(netns=...)`` and reads the
result back with ``ip -n NAME -j -d link`` (not through the code under
test). The host's own interfaces are never touched. The tests skip, saying
why, when not root or when ``ip netns`` does not work; the VLAN test skips
when the kernel has no 802.1Q support, the Open vSwitch tests when
``ovs-vsctl`` (or its database) is missing.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import types
import unittest
import uuid
from unittest import mock

from pyroute2 import NetNS
from pyroute2.netlink.exceptions import NetlinkError

from nova.network import model
from nova.virt.libvirt import host_net
from nova.virt.libvirt import vif

_EOPNOTSUPP = 95

INSTANCE = types.SimpleNamespace(id=42, uuid="cdab7b1f-553c-473e-b541-fe0ec8df1b3a")
NETWORK = model.Network(id="11111111-2222-4333-8444-555555555555", label="private")


def make_vif(configuration: dict[str, str], network: model.Network = NETWORK) -> model.VIF:
    """Return a VIF with a fresh uuid (so a fresh tap name) and a Nova-style MAC."""
    mac = "fa:16:3e:" + ":".join(f"{byte:02x}" for byte in os.urandom(3))
    return model.VIF(
        id=str(uuid.uuid4()), address=mac, network=network, configuration=configuration
    )


def ip(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=False)


def ip_ok(*args: str) -> str:
    result = ip(*args)
    if result.returncode:
        raise AssertionError(f"ip {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


@functools.cache
def missing_prerequisite() -> str | None:
    """Return why these tests cannot run here, or None."""
    if os.geteuid() != 0:
        return "needs root to create network namespaces and devices"
    if shutil.which("ip") is None:
        return "the ip command (iproute2) is not installed"
    probe = f"nova-test-{uuid.uuid4().hex[:8]}"
    result = ip("netns", "add", probe)
    if result.returncode:
        return f"ip netns is unavailable: {result.stderr.strip()}"
    ip("netns", "del", probe)
    return None


_VLAN_SUPPORT: dict[str, str | None] = {}


class NamespaceTestCase(unittest.TestCase):
    """Gives each test a fresh network namespace and a HostNetwork confined to it."""

    def setUp(self) -> None:
        super().setUp()
        reason = missing_prerequisite()
        if reason:
            self.skipTest(reason)
        self.netns = f"nova-test-{uuid.uuid4().hex[:8]}"
        ip_ok("netns", "add", self.netns)
        self.addCleanup(ip, "netns", "del", self.netns)
        self.host = host_net.HostNetwork(netns=self.netns)

    # --- reading the namespace (independently of the code under test) ---------------

    def links(self) -> dict[str, dict]:
        """Return the namespace's devices by name, as ``ip -j -d link`` shows them."""
        return {
            link["ifname"]: link
            for link in json.loads(ip_ok("-n", self.netns, "-j", "-d", "link", "show"))
        }

    def link(self, name: str) -> dict:
        links = self.links()
        self.assertIn(name, links, f"{name} does not exist in {self.netns}: {sorted(links)}")
        return links[name]

    def assertNoLink(self, name: str) -> None:
        self.assertNotIn(name, self.links())

    def assertKind(self, name: str, kind: str) -> dict:
        link = self.link(name)
        self.assertEqual(kind, link.get("linkinfo", {}).get("info_kind"), link)
        return link

    def assertAdminUp(self, name: str) -> None:
        self.assertIn("UP", self.link(name)["flags"])

    def assertTap(self, name: str, mac: str, master: str | None = None) -> None:
        link = self.assertKind(name, "tun")
        self.assertEqual("tap", link["linkinfo"]["info_data"]["type"])
        self.assertEqual(mac, link["address"])
        self.assertIn("UP", link["flags"])
        self.assertEqual(master, link.get("master"))
        self.assertNotHostLink(name)

    def assertNotHostLink(self, name: str) -> None:
        """The device was made in the namespace, not beside the host's own."""
        result = ip("-j", "link", "show", "dev", name)
        self.assertNotEqual(0, result.returncode, f"{name} leaked into the host namespace")

    def add_veth(self, name: str, peer: str) -> None:
        ip_ok("-n", self.netns, "link", "add", name, "type", "veth", "peer", "name", peer)


class ConfinementTestCase(NamespaceTestCase):
    """The confinement itself."""

    def test_missing_namespace_is_an_error_not_created(self) -> None:
        name = f"nova-test-{uuid.uuid4().hex[:8]}"
        self.addCleanup(ip, "netns", "del", name)  # only if the code under test made it
        with self.assertRaises(host_net.HostNetworkError):
            host_net.HostNetwork(netns=name).exists("lo")
        self.assertNotIn(name, ip_ok("netns", "list").split())

    def test_exists(self) -> None:
        self.assertTrue(self.host.exists("lo"))
        self.assertFalse(self.host.exists("br100"))


class BridgeVIFTestCase(NamespaceTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.driver = vif.BridgeVIFDriver(self.host)

    def test_plug_and_unplug(self) -> None:
        network_vif = make_vif({"vif_type": "bridge", "bridge": "br100"})
        tap = vif.tap_name(network_vif)

        self.driver.plug(INSTANCE, network_vif)
        self.assertKind("br100", "bridge")
        self.assertAdminUp("br100")
        self.assertTap(tap, network_vif.address, master="br100")

        self.driver.plug(INSTANCE, network_vif)  # plugging twice is fine
        self.assertTap(tap, network_vif.address, master="br100")
        self.assertEqual({"lo", "br100", tap}, set(self.links()))

        self.driver.unplug(INSTANCE, network_vif)
        self.assertNoLink(tap)
        self.assertNoLink("br100")  # it went with its last port
        self.assertEqual({"lo"}, set(self.links()))

        self.driver.unplug(INSTANCE, network_vif)  # already gone: fine
        self.assertEqual({"lo"}, set(self.links()))

    def test_bridge_goes_with_its_last_vif(self) -> None:
        first = make_vif({"vif_type": "bridge", "bridge": "br100"})
        second = make_vif({"vif_type": "bridge", "bridge": "br100"})
        self.driver.plug(INSTANCE, first)
        self.driver.plug(INSTANCE, second)
        self.assertTap(vif.tap_name(first), first.address, master="br100")
        self.assertTap(vif.tap_name(second), second.address, master="br100")

        self.driver.unplug(INSTANCE, first)
        self.assertNoLink(vif.tap_name(first))
        self.assertKind("br100", "bridge")
        self.assertTap(vif.tap_name(second), second.address, master="br100")

        self.driver.unplug(INSTANCE, second)
        self.assertNoLink(vif.tap_name(second))
        self.assertNoLink("br100")

    def test_unplug_keeps_a_bridge_with_other_ports(self) -> None:
        # A bridge port the VIF driver did not make (an uplink) keeps the bridge.
        network_vif = make_vif({"vif_type": "bridge", "bridge": "br100"})
        self.driver.plug(INSTANCE, network_vif)
        self.add_veth("uplink0", "uplink1")
        ip_ok("-n", self.netns, "link", "set", "uplink0", "master", "br100")

        self.driver.unplug(INSTANCE, network_vif)
        self.assertNoLink(vif.tap_name(network_vif))
        self.assertKind("br100", "bridge")
        self.assertEqual("br100", self.link("uplink0").get("master"))

    def test_vlan_without_its_parent_is_an_error(self) -> None:
        network = model.Network(
            id=NETWORK.id, label="vlan", bridge="br101", vlan=101, bridge_interface="nosuch0"
        )
        with self.assertRaises(host_net.HostNetworkError):
            self.driver.plug(INSTANCE, make_vif({"vif_type": "bridge", "bridge": "br101"}, network))
        self.assertNoLink("vlan101")


class VlanBridgeVIFTestCase(NamespaceTestCase):
    """A legacy VLAN network: ``vlan<N>`` on the network's bridge_interface."""

    def setUp(self) -> None:
        super().setUp()
        self.add_veth("eth9", "eth9peer")  # the parent ("physical") interface
        reason = self._vlan_unsupported()
        if reason:
            self.skipTest(reason)
        self.network = model.Network(
            id=NETWORK.id, label="vlan", bridge="br100", vlan=100, bridge_interface="eth9"
        )
        self.driver = vif.BridgeVIFDriver(self.host)

    def _vlan_unsupported(self) -> str | None:
        """Probe once (in this namespace) whether the kernel can make 802.1Q links."""
        if "reason" in _VLAN_SUPPORT:
            return _VLAN_SUPPORT["reason"]
        # Through netlink: iproute2 reports EOPNOTSUPP as "Unknown device type".
        with NetNS(self.netns, flags=0) as ipr:
            try:
                ipr.link(
                    "add",
                    ifname="vlanprobe",
                    kind="vlan",
                    link=ipr.link_lookup(ifname="eth9")[0],
                    vlan_id=4094,
                )
            except NetlinkError as exc:
                if exc.code != _EOPNOTSUPP:
                    raise
                reason = "kernel has no 802.1Q support (creating a vlan link: errno 95, EOPNOTSUPP)"
            else:
                ipr.link("del", ifname="vlanprobe")
                reason = None
        _VLAN_SUPPORT["reason"] = reason
        return reason

    def test_plug_and_unplug(self) -> None:
        network_vif = make_vif({"vif_type": "bridge", "bridge": "br100"}, self.network)
        tap = vif.tap_name(network_vif)

        self.driver.plug(INSTANCE, network_vif)
        vlan = self.assertKind("vlan100", "vlan")
        self.assertEqual(100, vlan["linkinfo"]["info_data"]["id"])
        self.assertEqual("eth9", vlan["link"])
        self.assertEqual("br100", vlan["master"])
        self.assertIn("UP", vlan["flags"])
        self.assertAdminUp("eth9")
        self.assertTap(tap, network_vif.address, master="br100")

        self.driver.plug(INSTANCE, network_vif)  # twice: fine
        self.assertEqual({"lo", "eth9", "eth9peer", "br100", "vlan100", tap}, set(self.links()))

        self.driver.unplug(INSTANCE, network_vif)
        self.assertEqual({"lo", "eth9", "eth9peer"}, set(self.links()))
        self.driver.unplug(INSTANCE, network_vif)  # again: fine
        self.assertEqual({"lo", "eth9", "eth9peer"}, set(self.links()))

    def test_vlan_interface_goes_with_the_last_vif(self) -> None:
        first = make_vif({"vif_type": "bridge", "bridge": "br100"}, self.network)
        second = make_vif({"vif_type": "bridge", "bridge": "br100"}, self.network)
        self.driver.plug(INSTANCE, first)
        self.driver.plug(INSTANCE, second)

        self.driver.unplug(INSTANCE, first)
        self.assertEqual("br100", self.link("vlan100")["master"])
        self.assertKind("br100", "bridge")

        self.driver.unplug(INSTANCE, second)
        self.assertNoLink("vlan100")
        self.assertNoLink("br100")
        self.assertKind("eth9", "veth")


class EthernetVIFTestCase(NamespaceTestCase):
    def test_plug_and_unplug(self) -> None:
        driver = vif.EthernetVIFDriver(self.host)
        network_vif = make_vif({"vif_type": "ethernet"})
        tap = vif.tap_name(network_vif)

        driver.plug(INSTANCE, network_vif)
        self.assertTap(tap, network_vif.address, master=None)
        driver.plug(INSTANCE, network_vif)  # twice: fine
        self.assertEqual({"lo", tap}, set(self.links()))

        driver.unplug(INSTANCE, network_vif)
        self.assertEqual({"lo"}, set(self.links()))
        driver.unplug(INSTANCE, network_vif)  # already gone: fine
        self.assertEqual({"lo"}, set(self.links()))


class OpenVSwitchWithoutOvsTestCase(NamespaceTestCase):
    """Without ``ovs-vsctl`` libvirt's ``<virtualport>`` adds the port: nothing to plug."""

    def setUp(self) -> None:
        super().setUp()
        if shutil.which("ovs-vsctl"):
            # Exercise the no-ovs path anyway, as on a host without Open vSwitch.
            patcher = mock.patch.object(host_net.shutil, "which", return_value=None)
            patcher.start()
            self.addCleanup(patcher.stop)
        self.host = host_net.HostNetwork(netns=self.netns, ovs_vsctl=None)
        self.driver = vif.OpenVSwitchVIFDriver(self.host)

    def test_has_no_ovs(self) -> None:
        self.assertFalse(self.host.has_ovs())

    def test_plug_leaves_the_host_alone(self) -> None:
        network_vif = make_vif({"vif_type": "ovs", "bridge": "br-int", "ovs_hybrid_plug": "false"})
        self.driver.plug(INSTANCE, network_vif)
        self.assertEqual({"lo"}, set(self.links()))  # no tap, no bridge
        self.driver.unplug(INSTANCE, network_vif)
        self.assertEqual({"lo"}, set(self.links()))

    def test_ovs_commands_fail_cleanly(self) -> None:
        with self.assertRaises(host_net.HostNetworkError):
            self.host.ovs_add_port("br-int", "tapx", {"iface-id": "x"})
        with self.assertRaises(host_net.HostNetworkError):
            self.host.ovs_del_port("br-int", "tapx")


@functools.cache
def ovs_unavailable() -> str | None:
    vsctl = shutil.which("ovs-vsctl")
    if vsctl is None:
        return "ovs-vsctl is not installed (hybrid and Open vSwitch plugging need it)"
    result = subprocess.run(
        [vsctl, "--timeout=5", "show"], capture_output=True, text=True, check=False
    )
    if result.returncode:
        return f"the Open vSwitch database is not running: {result.stderr.strip()}"
    return None


class OpenVSwitchTestCase(NamespaceTestCase):
    """Open vSwitch plugging, on an Open vSwitch bridge made for the test only."""

    def setUp(self) -> None:
        super().setUp()
        reason = ovs_unavailable()
        if reason:
            self.skipTest(reason)
        self.host = host_net.HostNetwork(netns=self.netns)
        self.driver = vif.OpenVSwitchVIFDriver(self.host)
        self.bridge = f"brt{uuid.uuid4().hex[:8]}"
        self.vsctl("add-br", self.bridge)
        self.addCleanup(self.vsctl, "--if-exists", "del-br", self.bridge)

    def vsctl(self, *args: str) -> str:
        result = subprocess.run(
            ["ovs-vsctl", "--timeout=10", *args], capture_output=True, text=True, check=False
        )
        if result.returncode:
            raise AssertionError(f"ovs-vsctl {' '.join(args)}: {result.stderr.strip()}")
        return result.stdout.strip()

    def ports(self) -> set[str]:
        return set(self.vsctl("list-ports", self.bridge).split())

    def assertIfaceId(self, port: str, network_vif: model.VIF) -> None:
        iface_id = self.vsctl("get", "Interface", port, "external-ids:iface-id")
        self.assertEqual(network_vif.id, iface_id.strip('"'))

    def test_hybrid_plug_and_unplug(self) -> None:
        network_vif = make_vif(
            {"vif_type": "ovs", "bridge": self.bridge, "ovs_hybrid_plug": "true"}
        )
        qbr, qvb, qvo = vif.OpenVSwitchVIFDriver.hybrid_names(network_vif)
        tap = vif.tap_name(network_vif)

        self.driver.plug(INSTANCE, network_vif)
        self.assertKind(qbr, "bridge")
        self.assertTap(tap, network_vif.address, master=qbr)
        self.assertEqual(qbr, self.assertKind(qvb, "veth").get("master"))
        self.assertKind(qvo, "veth")
        self.assertEqual({qvo}, self.ports())
        self.assertIfaceId(qvo, network_vif)
        self.driver.plug(INSTANCE, network_vif)  # twice: fine
        self.assertEqual({qvo}, self.ports())

        self.driver.unplug(INSTANCE, network_vif)
        self.assertEqual(set(), self.ports())
        self.assertEqual({"lo"}, set(self.links()))
        self.driver.unplug(INSTANCE, network_vif)  # again: fine

    def test_plug_and_unplug(self) -> None:
        network_vif = make_vif(
            {"vif_type": "ovs", "bridge": self.bridge, "ovs_hybrid_plug": "false"}
        )
        tap = vif.tap_name(network_vif)

        self.driver.plug(INSTANCE, network_vif)
        self.assertTap(tap, network_vif.address, master=None)
        self.assertEqual({tap}, self.ports())
        self.assertIfaceId(tap, network_vif)

        self.driver.unplug(INSTANCE, network_vif)
        self.assertEqual(set(), self.ports())
        self.assertNoLink(tap)
        self.driver.unplug(INSTANCE, network_vif)  # again: fine
