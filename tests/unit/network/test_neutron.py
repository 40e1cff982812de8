"""Mapping Neutron's port binding to the VIF configuration the drivers consume."""

from __future__ import annotations

import typing
import unittest

from nova import exception
from nova.network.neutron import api as neutron_api

NET = "5a1e5f40-0000-4000-8000-000000000001"


def port(vif_type, details=None, **extra):
    return {
        "id": "port-1",
        "network_id": NET,
        "binding:host_id": "compute1",
        "binding:vif_type": vif_type,
        "binding:vif_details": details or {},
        **extra,
    }


class ConfigurationFromBindingTestCase(unittest.TestCase):
    def test_ovs_as_a_real_neutron_binds_it(self):
        details = {
            "bridge_name": "br-int",
            "connectivity": "l2",
            "datapath_type": "system",
            "ovs_hybrid_plug": False,
            "port_filter": True,
        }
        self.assertEqual(
            neutron_api.configuration_from_binding(port("ovs", details)),
            {
                "vif_type": "ovs",
                "bridge": "br-int",
                "datapath_type": "system",
                "ovs_hybrid_plug": "false",
                "port_filter": "true",
            },
        )

    def test_vhostuser(self):
        details = {"vhostuser_socket": "/run/openvswitch/vhu1", "vhostuser_mode": "server"}
        self.assertEqual(
            neutron_api.configuration_from_binding(port("vhostuser", details)),
            {
                "vif_type": "vhostuser",
                "vhostuser_socket": "/run/openvswitch/vhu1",
                "vhostuser_mode": "server",
            },
        )

    def test_bridge_and_tap(self):
        bridge = neutron_api.configuration_from_binding(port("bridge", {"vlan": 100}))
        self.assertEqual(bridge, {"vif_type": "bridge", "bridge": "brq5a1e5f40-00", "vlan": "100"})
        self.assertEqual(
            neutron_api.configuration_from_binding(port("tap")), {"vif_type": "ethernet"}
        )

    def test_unbound(self):
        for value in ("unbound", None):
            self.assertEqual(
                neutron_api.configuration_from_binding(port(value)), {"vif_type": "unbound"}
            )

    def test_binding_failed_is_a_clear_error(self):
        with self.assertRaisesRegex(exception.PortBindingFailed, "port-1 to host compute1"):
            neutron_api.configuration_from_binding(port("binding_failed"))

    def test_unsupported_type(self):
        with self.assertRaisesRegex(exception.PortBindingFailed, "'hw_veb' is not supported"):
            neutron_api.configuration_from_binding(port("hw_veb"))


class FakeNeutronClient:
    """Answers list_ports/list_networks from lists, and records the filters of each call."""

    def __init__(self, ports, networks) -> None:
        self.ports = ports
        self.networks = networks
        self.calls: list[tuple[str, dict]] = []

    def list_ports(self, **filters):
        self.calls.append(("ports", filters))
        wanted = set(filters["device_id"])
        return [p for p in self.ports if p["device_id"] in wanted]

    def list_networks(self, **filters):
        self.calls.append(("networks", filters))
        return [n for n in self.networks if n["id"] in filters["id"]]


class Instance(typing.NamedTuple):
    id: int
    uuid: str


class AddressesTestCase(unittest.TestCase):
    def test_a_page_of_servers_costs_a_port_call_per_50_and_one_network_call(self):
        instances = [Instance(i, f"uuid-{i}") for i in range(120)]
        ports = [
            {
                "id": f"p{i}",
                "device_id": f"uuid-{i}",
                "network_id": NET,
                "mac_address": f"fa:16:3e:00:00:{i:02x}",
                "fixed_ips": [{"subnet_id": "s", "ip_address": f"10.0.0.{i + 2}"}],
                "created_at": f"2026-01-01T00:00:{i % 60:02d}Z",
            }
            for i in range(120)
        ]
        ports.append({**ports[0], "id": "p-none", "fixed_ips": []})  # no address: not shown
        # A second port of server 0, made later: its addresses come after the first's.
        late = "2026-01-01T00:01:00Z"
        ports.insert(
            0,
            {
                **ports[0],
                "id": "p-v6",
                "fixed_ips": [{"ip_address": "fd00::5"}],
                "created_at": late,
            },
        )
        client = FakeNeutronClient(ports, [{"id": NET, "name": "private"}])
        api = neutron_api.NeutronAPI(client=client)
        addresses = api.get_addresses(None, instances)
        self.assertEqual([kind for kind, _ in client.calls], ["ports"] * 3 + ["networks"])
        self.assertEqual([len(f["device_id"]) for _, f in client.calls[:3]], [50, 50, 20])
        self.assertIn("fixed_ips", client.calls[0][1]["fields"])
        self.assertEqual(
            addresses[0],
            [
                ("private", "10.0.0.2", "fa:16:3e:00:00:00"),
                ("private", "fd00::5", "fa:16:3e:00:00:00"),
            ],
        )
        self.assertEqual(addresses[119], [("private", "10.0.0.121", "fa:16:3e:00:00:77")])
        self.assertEqual(len(addresses), 120)

    def test_no_instances_or_no_addresses_make_no_network_call(self):
        client = FakeNeutronClient([], [])
        api = neutron_api.NeutronAPI(client=client)
        self.assertEqual(api.get_addresses(None, []), {})
        self.assertEqual(client.calls, [])
        self.assertEqual(api.get_addresses(None, [Instance(1, "u")]), {})
        self.assertEqual([kind for kind, _ in client.calls], ["ports"])  # no names to read

    def test_os_interface_view_of_the_ports(self):
        client = FakeNeutronClient(
            [
                {
                    "id": "p1",
                    "device_id": "u",
                    "network_id": NET,
                    "mac_address": "fa:16:3e:00:00:01",
                    "status": "ACTIVE",
                    "fixed_ips": [{"subnet_id": "s1", "ip_address": "10.0.0.3"}],
                }
            ],
            [],
        )
        (interface,) = neutron_api.NeutronAPI(client=client).list_interfaces(None, Instance(1, "u"))
        self.assertEqual(
            (interface.port_id, interface.net_id, interface.port_state, interface.fixed_ips),
            ("p1", NET, "ACTIVE", (("s1", "10.0.0.3"),)),
        )
