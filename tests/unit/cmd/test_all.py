"""``nova-all``: what it builds, before anything starts."""

from __future__ import annotations

import shutil
import tempfile
import unittest

import nova.conf
from nova.cmd import all as nova_all

CONF = nova.conf.CONF


class BuildTestCase(unittest.TestCase):
    def setUp(self) -> None:
        self.addCleanup(CONF.set_default, "executor_thread_pool_size", 64)
        # build() makes the embedded Quantum's database in the state path:
        # never the user's own (~/.local/state/nova).
        state = tempfile.mkdtemp(prefix="nova-all-build-")
        self.addCleanup(shutil.rmtree, state, ignore_errors=True)
        self.override("state_path", state)

    def override(self, name, value, group=None) -> None:
        CONF.set_override(name, value, group)
        self.addCleanup(CONF.clear_override, name, group)

    def test_one_thread_each_when_every_call_stays_in_the_process(self):
        self.override("backend", "quantum", "network")
        self.override("embedded", True, "quantum")
        self.override("connection_uri", "test:///default", "libvirt")
        self.assertEqual(nova_all.rpc_threads(), nova_all.IN_PROCESS_RPC_THREADS)
        self.override("backend", "legacy", "network")
        self.assertEqual(nova_all.rpc_threads(), nova_all.IN_PROCESS_RPC_THREADS)

    def test_more_threads_when_waiting_on_another_service(self):
        self.override("connection_uri", "test:///default", "libvirt")
        for backend, embedded in (("quantum", False), ("neutron", True)):
            with self.subTest(backend=backend, embedded=embedded):
                self.override("backend", backend, "network")
                self.override("embedded", embedded, "quantum")
                self.assertEqual(nova_all.rpc_threads(), nova_all.WAITING_RPC_THREADS)
        self.override("backend", "legacy", "network")
        self.override("connection_uri", "qemu:///system", "libvirt")
        self.assertEqual(nova_all.rpc_threads(), nova_all.WAITING_RPC_THREADS)

    def test_rpc_threads_per_service_unless_configured(self):
        nova_all.build(api_port=0)
        self.assertEqual(CONF.executor_thread_pool_size, nova_all.rpc_threads())
        self.override("executor_thread_pool_size", 32)
        nova_all.build(api_port=0)
        self.assertEqual(CONF.executor_thread_pool_size, 32)

    def write_threads_built(self, embedded_quantum: bool) -> int:
        """Return ``[wsgi] write_threads`` once nova-all is built with that Quantum service."""
        self.addCleanup(CONF.set_default, "write_threads", 0, "wsgi")
        self.override("backend", "quantum", "network")
        self.override("embedded", embedded_quantum, "quantum")
        self.override("connection_uri", "test:///default", "libvirt")
        nova_all.build(api_port=0)
        return CONF.wsgi.write_threads

    def test_writes_get_one_thread_when_every_call_stays_in_the_process(self):
        self.assertEqual(self.write_threads_built(embedded_quantum=True), 1)
        self.override("write_threads", 3, "wsgi")  # the operator's choice wins
        self.assertEqual(self.write_threads_built(embedded_quantum=True), 3)

    def test_writes_share_the_threads_when_waiting_on_another_service(self):
        self.assertEqual(self.write_threads_built(embedded_quantum=False), 0)
