"""The RPC context serializer."""

from __future__ import annotations

import unittest

from nova import context as nova_context
from nova import rpc


class ContextSerializerTestCase(unittest.TestCase):
    def test_round_trip(self):
        context = nova_context.RequestContext("u", "p", is_admin=True, request_id="req-1")
        serializer = rpc.ContextSerializer()
        self.assertEqual(
            serializer.deserialize_context(serializer.serialize_context(context)), context
        )

    def test_keys_added_by_the_driver_are_ignored(self):
        # oslo.messaging's RabbitMQ driver adds client_timeout to every context.
        values = {
            "user_id": "u",
            "project_id": "p",
            "is_admin": False,
            "request_id": "req-x",
            "client_timeout": None,
        }
        context = rpc.ContextSerializer().deserialize_context(values)
        self.assertEqual((context.user_id, context.project_id), ("u", "p"))
