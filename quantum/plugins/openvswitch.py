"""Open vSwitch: every VIF on the integration bridge, tagged with its interface-id.

Compute's edge binding is the port on ``bridge`` with ``external_ids:iface-id``;
``quantum-agent`` owns its VLAN tag (the network's local VLAN, or 4095).
"""

from __future__ import annotations

from quantum import plugins


class OpenVSwitchPlugin(plugins.QuantumPlugin):
    vif_type = "ovs"

    def port_configuration(self, network_id: str, port_id: str) -> dict[str, str]:
        """Name the integration bridge and whether compute plugs through a Linux bridge."""
        ovs = self.conf.openvswitch
        return {
            "vif_type": self.vif_type,
            "bridge": ovs.integration_bridge,
            "ovs_hybrid_plug": "true" if ovs.hybrid_plug else "false",
        }
