"""IEEE 802.1Qbh (port profiles) and 802.1Qbg (VEPA with VSI ids): macvtap on a NIC."""

from __future__ import annotations

from quantum import plugins


class Qbh8021Plugin(plugins.QuantumPlugin):
    vif_type = "802.1qbh"

    def port_configuration(self, network_id: str, port_id: str) -> dict[str, str]:
        """Name the physical device and, when configured, the port profile."""
        qbh = self.conf["8021qbh"]
        configuration = {"vif_type": self.vif_type, "source_dev": qbh.source_dev}
        if qbh.profile_id:
            configuration["profile_id"] = qbh.profile_id
        return configuration


class Qbg8021Plugin(plugins.QuantumPlugin):
    vif_type = "802.1qbg"

    def port_configuration(self, network_id: str, port_id: str) -> dict[str, str]:
        """Give the device and the four VSI ids; the instance id is the port's uuid."""
        qbg = self.conf["8021qbg"]
        return {
            "vif_type": self.vif_type,
            "source_dev": qbg.source_dev,
            "managerid": str(qbg.managerid),
            "typeid": str(qbg.typeid),
            "typeidversion": str(qbg.typeidversion),
            "instanceid": port_id,
        }
