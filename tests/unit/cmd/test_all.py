"""``nova-all``: what it builds, before anything starts."""

from __future__ import annotations

import unittest

import nova.conf
from nova.cmd import all as nova_all

CONF = nova.conf.CONF


class BuildTestCase(unittest.TestCase):
    def setUp(self) -> None:
        self.addCleanup(CONF.set_default, "executor_thread_pool_size", 64)

    def test_few_rpc_threads_per_service_unless_configured(self):
        nova_all.build(api_port=0)
        self.assertEqual(CONF.executor_thread_pool_size, nova_all.RPC_THREADS)
        CONF.set_override("executor_thread_pool_size", 32)
        self.addCleanup(CONF.clear_override, "executor_thread_pool_size")
        nova_all.build(api_port=0)
        self.assertEqual(CONF.executor_thread_pool_size, 32)
