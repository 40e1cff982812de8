"""A bare tap device per VIF (libvirt ``ethernet`` interface); the host wires it."""

from __future__ import annotations

from quantum import plugins


class TapPlugin(plugins.QuantumPlugin):
    vif_type = "ethernet"
