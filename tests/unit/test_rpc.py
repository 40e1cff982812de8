"""The RPC context serializer."""

from __future__ import annotations

import socket
import unittest

import oslo_messaging as messaging
from oslo_context import context as oslo_context

from nova import context as nova_context
from nova import exception
from nova import rpc


class RequestContextSerializerTestCase(unittest.TestCase):
    def test_round_trip(self):
        context = nova_context.RequestContext("u", "p", is_admin=True, request_id="req-1")
        serializer = rpc.RequestContextSerializer()
        received = serializer.deserialize_context(serializer.serialize_context(context))
        self.assertIsInstance(received, nova_context.RequestContext)
        self.assertEqual(received.to_dict(), context.to_dict())
        self.assertEqual(
            (received.user_id, received.project_id, received.is_admin, received.request_id),
            ("u", "p", True, "req-1"),
        )

    def test_received_context_is_the_threads_current_one(self):
        # oslo.log reads the request id of the thread's current context.
        values = nova_context.RequestContext("u", "p", request_id="req-current").to_dict()
        nova_context.RequestContext("other", "p", request_id="req-before")
        self.assertEqual(oslo_context.get_current().request_id, "req-before")
        rpc.RequestContextSerializer().deserialize_context(values)
        self.assertEqual(oslo_context.get_current().request_id, "req-current")

    def test_keys_added_by_the_driver_are_ignored(self):
        # oslo.messaging's RabbitMQ driver adds client_timeout to every context.
        values = nova_context.RequestContext("u", "p", request_id="req-x").to_dict()
        values["client_timeout"] = None
        context = rpc.RequestContextSerializer().deserialize_context(values)
        self.assertEqual((context.user_id, context.project_id), ("u", "p"))
        self.assertEqual(context.request_id, "req-x")


class CheckTransportTestCase(unittest.TestCase):
    """What needs no broker (a real RabbitMQ's answers: tests/integration/test_broker_check)."""

    def use(self, url: str) -> None:
        rpc.CONF.set_override("transport_url", url)
        self.addCleanup(rpc.CONF.clear_override, "transport_url")

    def test_fake_transport_only_in_process(self):
        self.use("fake://")
        rpc.check_transport(in_process=True)
        with self.assertRaises(exception.InProcessTransport) as caught:
            rpc.check_transport()
        self.assertEqual(
            caught.exception.format_message(),
            "transport_url is fake:// (in-process messaging), which only works inside nova-all",
        )

    def test_the_default_is_fake_and_refused(self):
        self.assertEqual(rpc.CONF.transport_url, "fake://")
        self.assertRaises(exception.InProcessTransport, rpc.check_transport)

    def test_closed_port_and_a_server_that_does_not_speak_amqp(self):
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen()
            silent = listener.getsockname()[1]
            with socket.socket() as closed:
                closed.bind(("127.0.0.1", 0))
                port = closed.getsockname()[1]  # bound, not listening: refused
            self.use(f"rabbit://guest:secret@127.0.0.1:{port},guest:secret@127.0.0.1:{silent}/")
            with self.assertRaises(exception.BrokerUnreachable) as caught:
                rpc.check_transport()
        message = caught.exception.format_message()
        self.assertEqual(
            message,
            f"No message broker answers at 127.0.0.1:{port} (Connection refused), "
            f"127.0.0.1:{silent} (timed out)",
        )
        self.assertNotIn("secret", message)


class CallTestCase(unittest.TestCase):
    """A call's answer, and Nova's exceptions raised again in the caller (fake:// transport)."""

    def test_call_returns_and_raises_novas_exceptions(self):
        class Endpoint:
            target = messaging.Target(version="1.0")

            @messaging.expected_exceptions(exception.ConsoleNotAvailable)
            def console(self, context, instance_uuid):
                if instance_uuid == "none":
                    raise exception.ConsoleNotAvailable(instance_id=instance_uuid)
                return f"output of {instance_uuid}"

        rpc.CONF.set_override("transport_url", "fake://")
        self.addCleanup(rpc.CONF.clear_override, "transport_url")
        rpc.cleanup()
        self.addCleanup(rpc.cleanup)
        server = rpc.get_server("test-calls", "h1", [Endpoint()])
        server.start()
        self.addCleanup(server.wait)
        self.addCleanup(server.stop)
        client = rpc.get_client("test-calls", server="h1").prepare(timeout=10)
        context = nova_context.RequestContext("u", "p")
        self.assertEqual(client.call(context, "console", instance_uuid="x"), "output of x")
        with self.assertRaises(exception.ConsoleNotAvailable) as caught:
            client.call(context, "console", instance_uuid="none")
        self.assertEqual(caught.exception.code, 404)
        self.assertEqual(
            caught.exception.format_message(), "Guest does not have a console available."
        )
