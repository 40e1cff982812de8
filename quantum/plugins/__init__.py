"""Plugins: what configuration a port reports, by the kind of network it is on.

A network names its plugin (or gets ``core_plugin``). A port's
configuration is the plugin's keys, overridden by the network's and then the
port's own key/values (set by an admin). Plugins are named by alias or by
the import path of a ``QuantumPlugin`` subclass; the aliases are the
entry points of ``quantum.plugins`` (``setup.py``).
"""

from __future__ import annotations

from oslo_config import cfg

from quantum import exceptions
from servicekit import plugins

#: Entry-point group of the plugins (``setup.py``).
NAMESPACE = "quantum.plugins"


def tap_name(interface_id: str) -> str:
    """Return the host tap of an edge binding: ``tap`` + the interface-id's first 11 characters.

    Part of the contract with compute (Nova's libvirt VIF drivers name the tap
    of a VIF so); the Linux bridge agent finds the edge bindings by it.
    """
    return ("tap" + interface_id)[:14]


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
    return plugin_class(name)(conf)


def plugin_class(name: str) -> type[QuantumPlugin]:
    """Return the class of plugin ``name``: an alias, or ``package.module[:.]Class``.

    :raises quantum.exceptions.PluginNotFound: no such plugin.
    """
    try:
        return plugins.find(NAMESPACE, name, QuantumPlugin)
    except plugins.PluginNotFound as exc:
        raise exceptions.PluginNotFound(plugin=name) from exc
