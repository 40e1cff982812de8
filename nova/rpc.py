"""Messaging between services (oslo.messaging): casts and calls with a context.

``[DEFAULT] transport_url`` is ``fake://`` by default, which works inside one
process only (``nova-all``; the other services refuse to start on it);
``rabbit://user:pass@host:5672/`` connects
separate processes, on durable queues by default (``[oslo_messaging_rabbit]
amqp_durable_queues``; a broker that has the queues non-durable refuses
them: delete them, or set the option to false). oslo.messaging registers its
options on the global ``cfg.CONF``, which is Nova's too.
"""

from __future__ import annotations

import copy
import logging
import threading

import oslo_messaging as messaging
from amqp import exceptions as amqp_exceptions
from oslo_messaging import opts as messaging_opts
from oslo_messaging._drivers import common as driver_common
from oslo_messaging._drivers import impl_rabbit as rabbit

import nova.conf
from nova import context as nova_context
from nova import exception

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)

RABBIT_GROUP = "oslo_messaging_rabbit"
#: The [DEFAULT] options of oslo.messaging that Nova uses.
_DEFAULT_OPTS = ("transport_url", "executor_thread_pool_size")

for _group, _opts in messaging_opts.list_opts():
    if _group is None:
        CONF.register_opts([opt for opt in _opts if opt.name in _DEFAULT_OPTS])
    elif _group == RABBIT_GROUP:
        # Registered here (the driver registers the same options again) so
        # that Nova can choose their defaults.
        CONF.register_opts(_opts, group=_group)

#: Nova's own defaults of oslo.messaging options: (group, name) -> default.
#: amqp_durable_queues: casts survive a broker restart: the queues are durable,
#: so they and the (persistent) messages in them outlive the broker, and a cast
#: sent while the consumers reconnect is queued, not dropped for want of a
#: queue. The driver always publishes with confirms and retries a send until
#: the broker takes it; a cast that is lost all the same is sent again by the
#: scheduler's sweep.
NOVA_DEFAULTS: dict[tuple[str | None, str], object] = {
    (None, "transport_url"): "fake://",
    (RABBIT_GROUP, "amqp_durable_queues"): True,
}
#: What the sample file adds to an option's help, by name.
_SAMPLE_HELP = {
    "transport_url": "Nova: fake:// works inside one process only (nova-all); every "
    "process of a multi-process cloud needs the same broker URL, e.g. "
    "rabbit://nova:secret@broker:5672/nova (user, password, vhost).",
}
for (_group, _name), _default in NOVA_DEFAULTS.items():
    CONF.set_default(_name, _default, group=_group)
messaging.set_transport_defaults(control_exchange="nova")


_lock = threading.Lock()
_transport: messaging.Transport | None = None


class RequestContextSerializer(messaging.NoOpSerializer):
    """Carries the ``RequestContext`` (and with it the request id) across the wire."""

    def serialize_context(self, context: nova_context.RequestContext) -> dict:
        return context.to_dict()

    def deserialize_context(self, values: dict) -> nova_context.RequestContext:
        # Keys oslo.context does not know (RabbitMQ's client_timeout) are dropped.
        return nova_context.RequestContext.from_dict(values)


def check_transport(in_process: bool = False) -> None:
    """Check that a broker of ``[DEFAULT] transport_url`` lets this service in.

    oslo.messaging retries an unreachable broker forever, logging as it
    goes, and a refused login surfaces only once the service has registered
    (so it looks up until its heartbeat lapses); a service checks once at
    start instead, before it registers. Each host of the URL in turn gets
    one AMQP connection from oslo.messaging's own RabbitMQ driver (the
    service's credentials, virtual host and TLS settings; no retry; kombu's
    5 s connect timeout), closed at once; the first that logs in passes.

    :param in_process: every service runs in this process (``nova-all``),
        so ``fake://`` is fine; elsewhere it is refused.
    :raises nova.exception.InProcessTransport: ``fake://`` outside ``nova-all``.
    :raises nova.exception.BrokerRefused: a broker refused the user, its
        password or the virtual host (and none let it in).
    :raises nova.exception.BrokerUnreachable: no broker of the URL answers.
    """
    url = messaging.TransportURL.parse(CONF, CONF.transport_url)
    if url.transport == "fake":
        if in_process:
            return
        raise exception.InProcessTransport(url="fake://")
    if url.transport != "rabbit":
        return
    refused: exception.BrokerRefused | None = None
    failures = []
    # No host in the URL: the driver's own default (guest on localhost).
    for host in url.hosts or [messaging.TransportHost()]:
        address = f"{host.hostname or 'localhost'}:{host.port or 5672}"
        single = messaging.TransportURL(
            CONF, url.transport, url.virtual_host, [host] if host.hostname else [], url.query
        )
        # As the driver reads its options: the URL's query (?ssl=1 ...) wins.
        conf = driver_common.ConfigOptsProxy(CONF, single, RABBIT_GROUP)
        try:
            rabbit.Connection(conf, single, driver_common.PURPOSE_LISTEN, retry=0).close()
        except Exception as exc:  # noqa: BLE001 - kombu's and amqp's errors, and OSError
            reason = _refusal(exc)
            if reason is not None:
                user = host.username or "guest"
                refused = exception.BrokerRefused(host=address, user=user, reason=reason)
            failures.append(f"{address} ({_strerror(exc)})")
        else:
            return
    raise refused or exception.BrokerUnreachable(hosts=", ".join(failures))


def _refusal(exc: BaseException | None) -> str | None:
    """Return the broker's words if ``exc`` (or its cause) is a refused login or virtual host."""
    while exc is not None:
        if isinstance(exc, amqp_exceptions.AMQPError) and exc.reply_code in _REFUSED_CODES:
            return str(exc.reply_text)
        exc = exc.__cause__ or exc.__context__
    return None


#: AMQP replies to a login: ACCESS_REFUSED (user or password), NOT_ALLOWED
#: (no such virtual host, or no permission on it).
_REFUSED_CODES = (403, 530)


def _strerror(exc: BaseException) -> str:
    """Return why a connection failed, without the traceback (or the URL's password)."""
    cause = exc.__cause__ or exc.__context__ or exc
    if isinstance(cause, OSError) and cause.strerror:
        return cause.strerror
    return str(cause) or type(cause).__name__


def get_transport() -> messaging.Transport:
    """Return the process's RPC transport for ``[DEFAULT] transport_url``."""
    global _transport
    with _lock:
        if _transport is None:
            # A call's exceptions from these modules are raised again in the caller.
            _transport = messaging.get_rpc_transport(
                CONF, url=CONF.transport_url, allowed_remote_exmods=[exception.__name__]
            )
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
    return messaging.get_rpc_client(get_transport(), target, serializer=RequestContextSerializer())


def get_server(topic: str, server: str, endpoints: list) -> messaging.MessageHandlingServer:
    """Return an RPC server for ``topic``/``server`` dispatching to ``endpoints``."""
    target = messaging.Target(topic=topic, server=server, version="1.0")
    return messaging.get_rpc_server(
        get_transport(),
        target,
        endpoints,
        executor="threading",
        serializer=RequestContextSerializer(),
    )


def list_opts() -> dict[str, list]:
    """Return the messaging options registered above, with Nova's defaults, for the sample."""
    listed: dict[str, list] = {}
    for group, opts in messaging_opts.list_opts():
        if group is None:
            opts = [opt for opt in opts if opt.name in _DEFAULT_OPTS]
        elif group != RABBIT_GROUP:
            continue
        copies = []
        for opt in opts:
            opt = copy.deepcopy(opt)
            if (group, opt.name) in NOVA_DEFAULTS:
                opt.default = NOVA_DEFAULTS[group, opt.name]
            if opt.name in _SAMPLE_HELP:
                opt.help = f"{opt.help}\n\n{_SAMPLE_HELP[opt.name]}"
            copies.append(opt)
        listed.setdefault(group or "DEFAULT", []).extend(copies)
    return listed
