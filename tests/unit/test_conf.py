"""Configuration: option defaults and the generated sample file."""

from __future__ import annotations

import os
import tempfile
import unittest

from oslo_config import cfg
from oslo_config import generator

from nova.conf import base
from nova.conf import database

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class SampleConfigTestCase(unittest.TestCase):
    def test_sample_is_generated_from_the_options(self):
        with tempfile.TemporaryDirectory() as tmp:
            fresh = os.path.join(tmp, "nova.conf.sample")
            generator.main(
                [
                    "--config-file",
                    os.path.join(REPO, "etc", "nova-config-generator.conf"),
                    "--output-file",
                    fresh,
                ]
            )
            with open(fresh, encoding="utf-8") as handle:
                expected = handle.read()
        with open(os.path.join(REPO, "etc", "nova.conf.sample"), encoding="utf-8") as handle:
            committed = handle.read()
        self.assertIn("[database]", expected)
        self.assertEqual(
            committed,
            expected,
            "etc/nova.conf.sample is stale: run "
            "oslo-config-generator --config-file etc/nova-config-generator.conf",
        )


class DefaultsTestCase(unittest.TestCase):
    def make_conf(self, *lines: str) -> cfg.ConfigOpts:
        conf = cfg.ConfigOpts()
        base.register_opts(conf)
        database.register_opts(conf)
        with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as handle:
            handle.write("\n".join(lines) + "\n")
        self.addCleanup(os.unlink, handle.name)
        conf(["--config-file", handle.name], project="nova", default_config_files=[])
        return conf

    def test_database_lives_in_state_path(self):
        conf = self.make_conf("[DEFAULT]", "state_path = /srv/nova")
        self.assertEqual(conf.database.connection, "sqlite:////srv/nova/nova.sqlite")

    def test_options_read_from_config_file(self):
        conf = self.make_conf(
            "[DEFAULT]",
            "host = compute7",
            "[database]",
            "connection = postgresql+psycopg://nova@db/nova",
        )
        self.assertEqual(conf.host, "compute7")
        self.assertEqual(conf.database.connection, "postgresql+psycopg://nova@db/nova")
