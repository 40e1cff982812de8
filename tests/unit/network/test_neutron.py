"""Mapping Neutron's port binding to the VIF configuration the drivers consume."""

from __future__ import annotations

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
