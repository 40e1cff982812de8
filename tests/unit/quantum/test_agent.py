"""quantum-agent's decisions, over fake devices and a fake Quantum client.

The real devices, dnsmasq and packets: tests/integration/test_quantum_agent.py.
"""

from __future__ import annotations

import unittest

from quantum import conf as quantum_conf
from quantum import plugins
from quantum.agent import agent as agent_module
from quantum.agent import client as agent_client
from quantum.agent import devices
from quantum.agent import dhcp

VIF_A = "aaaaaaaa-0000-4000-8000-000000000001"
VIF_B = "bbbbbbbb-0000-4000-8000-000000000002"
VIF_C = "cccccccc-0000-4000-8000-000000000003"


class FakeClient:
    def __init__(self) -> None:
        self.attached: dict[str, agent_client.Attachment] = {}
        self.configurations: dict[str, dict[str, str]] = {}
        self.op_status: dict[str, str] = {}

    def attach(self, vif: str, port: str, network: str, vif_type: str, **keys: str) -> None:
        self.attached[vif] = agent_client.Attachment(vif, port, network, "t1", "DOWN")
        bridge = "br-int" if vif_type == "ovs" else ("brq" + network)[:15]
        self.configurations[port] = {"vif_type": vif_type, "bridge": bridge, **keys}

    def detach_all(self) -> None:
        """Detach everything (the service makes a detached port DOWN)."""
        for attachment in self.attached.values():
            self.op_status[attachment.port_id] = "DOWN"
        self.attached.clear()

    def attachments(self):
        return {
            vif: a._replace(op_status=self.op_status.get(a.port_id, "DOWN"))
            for vif, a in self.attached.items()
        }

    def port_configuration(self, attachment):
        return self.configurations.get(attachment.port_id)

    def set_op_status(self, attachment, op_status):
        self.op_status[attachment.port_id] = op_status
        return True


class FakeLinks:
    def __init__(self, *names: str) -> None:
        self.master: dict[str, str | None] = {name: None for name in names}
        self.bridges: set[str] = set()

    def all(self):
        names = [*self.bridges, *self.master]
        index = {name: i + 1 for i, name in enumerate(names)}
        found = {
            name: devices.Link(name, index[name], None, "bridge", None, "quantum-agent")
            for name in self.bridges
        }
        for name, master in self.master.items():
            found[name] = devices.Link(
                name, index[name], index.get(master) if master else None, "tun", "fe:16:3e:0:0:1"
            )
        return found

    def ensure_bridge(self, name, alias=None):
        self.bridges.add(name)

    def set_master(self, name, bridge):
        self.master[name] = bridge
        return True

    def delete(self, name, netns=None):
        self.bridges.discard(name)

    def bridge_members(self, bridge):
        return [name for name, master in self.master.items() if master == bridge]

    def close(self):
        pass


class FakeSwitch:
    def __init__(self, **interfaces: tuple[str | None, int | None]) -> None:
        self.ports = dict(interfaces)

    def ensure_bridge(self, bridge, datapath_type):
        pass

    def interfaces(self, bridge):
        return {
            name: devices.Interface(name, iface_id, "fa:16:3e:00:00:01", tag)
            for name, (iface_id, tag) in self.ports.items()
        }

    def set_tag(self, port, tag):
        self.ports[port] = (self.ports[port][0], tag)


def make_agent(client: FakeClient, links=None, switch=None) -> agent_module.Agent:
    conf = quantum_conf.new_conf()
    conf([], project="quantum", default_config_files=[])
    conf.set_override("enable_dhcp", False, group="agent")
    conf.set_override("plugins", ["linuxbridge", "openvswitch"], group="agent")
    agent = agent_module.Agent(conf, client=client)
    agent.links = links or FakeLinks()
    agent.switch = switch or FakeSwitch()
    return agent


class LinuxBridgeTestCase(unittest.TestCase):
    def test_tap_wired_to_its_networks_bridge_moved_and_unwired(self):
        tap_a, tap_b = plugins.tap_name(VIF_A), plugins.tap_name(VIF_B)
        links = FakeLinks(tap_a, tap_b, "tap-legacy")
        links.master["tap-legacy"] = "br100"
        links.bridges.add("br100")
        client = FakeClient()
        client.attach(VIF_A, "p1", "net-1", "bridge")
        agent = make_agent(client, links=links)
        wired = agent.sync()
        self.assertEqual(set(wired), {VIF_A})
        self.assertEqual(links.master[tap_a], "brqnet-1")
        self.assertIsNone(links.master[tap_b])  # not attached: left alone
        self.assertEqual(client.op_status, {"p1": "UP"})

        # Attached elsewhere: moved to the other network's bridge.
        client.detach_all()
        client.attach(VIF_A, "p2", "net-2", "bridge")
        agent.sync()
        self.assertEqual(links.master[tap_a], "brqnet-2")
        self.assertEqual(client.op_status, {"p1": "DOWN", "p2": "UP"})

        # Detached: off the plugin's bridge, which it emptied and so removes;
        # a legacy network's tap and bridge are not the agent's.
        client.detach_all()
        agent.sync()
        self.assertIsNone(links.master[tap_a])
        self.assertNotIn("brqnet-2", links.bridges)
        self.assertEqual(links.master["tap-legacy"], "br100")
        self.assertIn("br100", links.bridges)
        self.assertEqual(client.op_status["p2"], "DOWN")

    def test_a_port_of_another_plugin_is_not_wired_to_a_bridge(self):
        tap_a = plugins.tap_name(VIF_A)
        links = FakeLinks(tap_a)
        client = FakeClient()
        client.attach(VIF_A, "p1", "net-1", "ethernet")
        agent = make_agent(client, links=links)
        self.assertEqual(agent.sync(), {})
        self.assertIsNone(links.master[tap_a])


class OpenVSwitchTestCase(unittest.TestCase):
    def test_one_local_vlan_per_network_and_the_dead_vlan(self):
        switch = FakeSwitch(
            qvo1=(VIF_A, None), qvo2=(VIF_B, None), qvo3=(VIF_C, None), qvo4=("unknown", 7)
        )
        client = FakeClient()
        client.attach(VIF_A, "p1", "net-1", "ovs")
        client.attach(VIF_B, "p2", "net-1", "ovs")
        client.attach(VIF_C, "p3", "net-2", "ovs")
        agent = make_agent(client, switch=switch)
        agent.sync()
        tags = {name: tag for name, (_id, tag) in switch.ports.items()}
        self.assertEqual(tags["qvo1"], tags["qvo2"])
        self.assertNotEqual(tags["qvo1"], tags["qvo3"])
        self.assertEqual(tags["qvo4"], devices.DEAD_VLAN)
        self.assertEqual(client.op_status, {"p1": "UP", "p2": "UP", "p3": "UP"})

        # A restarted agent keeps the VLANs the ports carry.
        restarted = make_agent(client, switch=switch)
        restarted.vlans.clear()
        restarted.sync()
        self.assertEqual({name: tag for name, (_id, tag) in switch.ports.items()}, tags)

        del client.attached[VIF_B]
        restarted.sync()
        self.assertEqual(switch.ports["qvo2"][1], devices.DEAD_VLAN)
        # The interface leaves the switch while attached: the agent reports DOWN.
        del switch.ports["qvo3"]
        restarted.sync()
        self.assertEqual(client.op_status["p3"], "DOWN")
        self.assertEqual(client.op_status["p1"], "UP")


class DhcpDataTestCase(unittest.TestCase):
    def test_subnet_from_the_port_configuration(self):
        subnet = dhcp.Subnet.from_configuration
        self.assertEqual(
            subnet({"dhcp_server": "10.0.0.2", "cidr": "10.0.0.0/24", "gateway": "10.0.0.1"}),
            dhcp.Subnet("10.0.0.0/24", "10.0.0.2", "10.0.0.1"),
        )
        self.assertEqual(
            subnet({"dhcp_server": "10.1.2.2", "prefixlen": "16"}),
            dhcp.Subnet("10.1.0.0/16", "10.1.2.2", None),
        )
        self.assertIsNone(subnet({"cidr": "10.0.0.0/24"}))  # DHCP off: no server
        self.assertIsNone(subnet({"dhcp_server": "", "cidr": "10.0.0.0/24"}))

    def test_guest_mac_behind_a_libvirt_tap(self):
        self.assertEqual(agent_module.guest_mac("fe:16:3e:aa:bb:cc"), "*:16:3e:aa:bb:cc")
        self.assertEqual(agent_module.guest_mac("fa:16:3e:aa:bb:cc"), "fa:16:3e:aa:bb:cc")
        self.assertIsNone(agent_module.guest_mac(None))

    def test_tap_name_is_computes(self):
        self.assertEqual(plugins.tap_name(VIF_A), "tapaaaaaaaa-00")
