"""Messaging between services (oslo.messaging): casts and calls with a context.

``[DEFAULT] transport_url`` is ``fake://`` by default, which works inside one
process only (``nova-all``); ``rabbit://user:pass@host:5672/`` connects
separate processes. oslo.messaging registers its options on the global
``cfg.CONF``, which is Nova's too.
"""

from __future__ import annotations

import dataclasses
import logging
import threading

import oslo_messaging as messaging
from oslo_messaging import opts as messaging_opts

import nova.conf
from nova import context as nova_context

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)

for _group, _opts in messaging_opts.list_opts():
    if _group is None:
        CONF.register_opts(
            [opt for opt in _opts if opt.name in ("transport_url", "executor_thread_pool_size")]
        )
CONF.set_default("transport_url", "fake://")
messaging.set_transport_defaults(control_exchange="nova")

_CONTEXT_FIELDS = {field.name for field in dataclasses.fields(nova_context.RequestContext)}
_lock = threading.Lock()
_transport: messaging.Transport | None = None


class ContextSerializer(messaging.NoOpSerializer):
    """Carries the ``RequestContext`` across the wire."""

    def serialize_context(self, context: nova_context.RequestContext) -> dict:
        return {
            "user_id": context.user_id,
            "project_id": context.project_id,
            "is_admin": context.is_admin,
            "request_id": context.request_id,
        }

    def deserialize_context(self, values: dict) -> nova_context.RequestContext:
        # Drivers add keys of their own (RabbitMQ: client_timeout); keep ours.
        return nova_context.RequestContext(
            **{key: value for key, value in values.items() if key in _CONTEXT_FIELDS}
        )


def get_transport() -> messaging.Transport:
    """Return the process's RPC transport for ``[DEFAULT] transport_url``."""
    global _transport
    with _lock:
        if _transport is None:
            _transport = messaging.get_rpc_transport(CONF, url=CONF.transport_url)
        return _transport


def cleanup() -> None:
    """Close the transport (tests, shutdown)."""
    global _transport
    with _lock:
        if _transport is not None:
            _transport.cleanup()
        _transport = None


def get_client(topic: str, server: str | None = None) -> messaging.RPCClient:
    """Return a client that sends to ``topic`` (and ``server`` within it)."""
    target = messaging.Target(topic=topic, server=server, version="1.0")
    return messaging.get_rpc_client(get_transport(), target, serializer=ContextSerializer())


def get_server(topic: str, server: str, endpoints: list) -> messaging.MessageHandlingServer:
    """Return an RPC server for ``topic``/``server`` dispatching to ``endpoints``."""
    target = messaging.Target(topic=topic, server=server, version="1.0")
    return messaging.get_rpc_server(
        get_transport(), target, endpoints, executor="threading", serializer=ContextSerializer()
    )
