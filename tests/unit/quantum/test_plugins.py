"""Quantum's plugin loader: entry-point aliases or import paths."""

from __future__ import annotations

import unittest

from quantum import conf as quantum_conf
from quantum import exceptions
from quantum import plugins
from quantum.plugins import ieee8021q
from quantum.plugins import tap


class PluginClassTestCase(unittest.TestCase):
    def test_aliases(self):
        self.assertIs(plugins.plugin_class("tap"), tap.TapPlugin)
        self.assertIs(plugins.plugin_class("8021qbg"), ieee8021q.Qbg8021Plugin)

    def test_import_paths(self):
        for name in ("quantum.plugins.tap:TapPlugin", "quantum.plugins.tap.TapPlugin"):
            with self.subTest(name=name):
                self.assertIs(plugins.plugin_class(name), tap.TapPlugin)

    def test_unknown_or_not_a_plugin(self):
        for name in ("nope", "quantum.plugins.nope.Plugin", "quantum.conf.new_conf"):
            with self.subTest(name=name), self.assertRaises(exceptions.PluginNotFound):
                plugins.plugin_class(name)

    def test_load_configures_the_plugin(self):
        conf = quantum_conf.new_conf()
        plugin = plugins.load("tap", conf)
        self.assertIsInstance(plugin, tap.TapPlugin)
        self.assertIs(plugin.conf, conf)
