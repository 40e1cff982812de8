"""servicekit.policy: decisions remembered until the policy file is looked at again."""

from __future__ import annotations

import os
import tempfile
import unittest
from unittest import mock

from oslo_config import cfg
from oslo_policy import policy

from servicekit import policy as servicekit_policy

DEFAULTS = [
    policy.RuleDefault("context_is_admin", "role:admin"),
    policy.RuleDefault("read", "role:reader and project_id:%(project_id)s"),
]
READER = {"user_id": "u1", "project_id": "p1", "roles": ["reader"]}


class EnforcerTestCase(unittest.TestCase):
    def setUp(self) -> None:
        super().setUp()
        directory = tempfile.TemporaryDirectory()
        self.addCleanup(directory.cleanup)
        self.path = os.path.join(directory.name, "policy.yaml")
        self.conf = cfg.ConfigOpts()  # never parsed, as in an embedded set-up
        policy.Enforcer(self.conf)  # registers [oslo_policy]
        self.conf.set_override("policy_file", self.path, group="oslo_policy")
        self.enforcer = servicekit_policy.Enforcer(self.conf, DEFAULTS)
        self.now = 1000.0
        clock = mock.patch("servicekit.policy.time.monotonic", side_effect=lambda: self.now)
        clock.start()
        self.addCleanup(clock.stop)

    def write(self, text: str, mtime: float) -> None:
        with open(self.path, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.utime(self.path, (mtime, mtime))

    def test_defaults_targets_and_credentials(self):
        self.assertTrue(self.enforcer.allows("read", {"project_id": "p1"}, READER))
        self.assertFalse(self.enforcer.allows("read", {"project_id": "p2"}, READER))
        self.assertFalse(
            self.enforcer.allows("read", {"project_id": "p1"}, {**READER, "roles": []})
        )
        # A value that cannot be part of a key is decided all the same.
        self.assertTrue(self.enforcer.allows("read", {"project_id": "p1", "x": {}}, READER))
        with self.assertRaises(policy.PolicyNotRegistered):
            self.enforcer.allows("write", {"project_id": "p1"}, READER)

    def test_a_changed_file_applies_within_the_reload_interval(self):
        self.write('"read": "role:reader"\n', mtime=1_000_000)
        self.assertTrue(self.enforcer.allows("read", {"project_id": "p2"}, READER))
        self.write('"read": "!"\n', mtime=1_000_100)
        self.now += servicekit_policy.RELOAD_SECONDS / 2
        self.assertTrue(self.enforcer.allows("read", {"project_id": "p2"}, READER))  # remembered
        self.now += servicekit_policy.RELOAD_SECONDS
        self.assertFalse(self.enforcer.allows("read", {"project_id": "p2"}, READER))
        self.assertFalse(self.enforcer.allows("read", {"project_id": "p1"}, READER))
        # The rule gone from the file: its default again.
        self.write('"context_is_admin": "role:cloud-admin"\n', mtime=1_000_200)
        self.now += servicekit_policy.RELOAD_SECONDS
        self.assertTrue(self.enforcer.allows("read", {"project_id": "p1"}, READER))
