"""Plugins: what configuration a port reports, by the kind of network it is on.

A network names its plugin (or gets ``core_plugin``). A port's
configuration is the plugin's keys, overridden by the network's and then the
port's own key/values (set by an admin). Plugins are named by alias or by
the import path of a ``QuantumPlugin`` subclass.
"""

from __future__ import annotations

import importlib

from oslo_config import cfg

from quantum import exceptions

ALIASES = {
    "linuxbridge": "quantum.plugins.linuxbridge.LinuxBridgePlugin",
    "openvswitch": "quantum.plugins.openvswitch.OpenVSwitchPlugin",
    "8021qbh": "quantum.plugins.ieee8021q.Qbh8021Plugin",
    "8021qbg": "quantum.plugins.ieee8021q.Qbg8021Plugin",
    "tap": "quantum.plugins.tap.TapPlugin",
}


class QuantumPlugin:
    """Base of every plugin.

    :param conf: the service's configuration (plugins read their group).
    """

    #: ``vif_type`` of this plugin's ports: picks Nova's VIF driver.
    vif_type = ""

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self.conf = conf

    def port_configuration(self, network_id: str, port_id: str) -> dict[str, str]:
        """Return the plugin's configuration of port ``port_id`` on ``network_id``."""
        return {"vif_type": self.vif_type}


def load(name: str, conf: cfg.ConfigOpts) -> QuantumPlugin:
    """Return plugin ``name`` (alias or import path), configured with ``conf``.

    :raises quantum.exceptions.PluginNotFound: no such plugin.
    """
    path = ALIASES.get(name, name)
    module_name, _, class_name = path.rpartition(".")
    try:
        plugin_class = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError, ValueError):
        raise exceptions.PluginNotFound(plugin=name)
    if not (isinstance(plugin_class, type) and issubclass(plugin_class, QuantumPlugin)):
        raise exceptions.PluginNotFound(plugin=name)
    return plugin_class(conf)
