"""Linux bridge: one bridge per network, the VIF's tap is enslaved to it.

Compute's edge binding is the tap named from the VIF uuid, started on the
``bridge`` this configuration names (libvirt's ``<source bridge>``); from
then on ``quantum-agent`` owns the membership: it re-asserts it, takes the
tap off when the attachment goes, and moves it when it is attached elsewhere.
"""

from __future__ import annotations

from quantum import plugins


class LinuxBridgePlugin(plugins.QuantumPlugin):
    vif_type = "bridge"

    def port_configuration(self, network_id: str, port_id: str) -> dict[str, str]:
        """Name the network's bridge: prefix + the start of the network id (15 chars max)."""
        bridge = (self.conf.linuxbridge.bridge_prefix + network_id)[:15]
        return {"vif_type": self.vif_type, "bridge": bridge}
