"""``nova.utils``: the plugin loader."""

from __future__ import annotations

import unittest

from nova import exception
from nova import utils
from nova.virt import driver
from nova.virt import fake


class LoadPluginTestCase(unittest.TestCase):
    def test_alias_declared_in_setup_py(self):
        self.assertIs(utils.load_plugin("nova.virt.drivers", "fake"), fake.FakeDriver)
        self.assertIn("libvirt", utils.plugin_names("nova.virt.drivers"))

    def test_import_path_with_colon_or_dot(self):
        for name in ("nova.virt.fake:FakeDriver", "nova.virt.fake.FakeDriver"):
            with self.subTest(name=name):
                plugin = utils.load_plugin("nova.virt.drivers", name, driver.ComputeDriver)
                self.assertIs(plugin, fake.FakeDriver)

    def test_unknown_name_lists_the_aliases(self):
        with self.assertRaisesRegex(
            exception.PluginNotFound, r"No nova.virt.drivers plugin 'nope' \(known: fake, libvirt"
        ):
            utils.load_plugin("nova.virt.drivers", "nope")

    def test_plugin_of_the_wrong_kind(self):
        with self.assertRaises(exception.PluginNotFound):
            utils.load_plugin(
                "nova.virt.drivers", "nova.utils.LazyDependency", driver.ComputeDriver
            )

    def test_aliases_only(self):
        with self.assertRaises(exception.PluginNotFound):
            utils.load_plugin(
                "nova.virt.drivers", "nova.virt.fake.FakeDriver", driver.ComputeDriver, False
            )
        self.assertIs(
            utils.load_plugin("nova.virt.drivers", "fake", driver.ComputeDriver, False),
            fake.FakeDriver,
        )
