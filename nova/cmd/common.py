"""What every service command does first, and how its start fails.

``setup()`` reads the configuration and sets up oslo.log; ``check_database()``
and ``check_broker()`` find what a service cannot run without, before it
registers (a service that fails them never looks up). A failure is
one line on stderr, ``ERROR: <binary> cannot start: <what and what to do>``,
and exit status 1; ``--debug`` logs the traceback as well.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from oslo_config import cfg

import nova.conf
from nova import config
from nova import exception
from nova import rpc
from nova import service
from nova.db import migration
from servicekit import wsgi

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)

#: What the operator should do, by the kind of start-up failure.
ADVICE: dict[type[Exception], str] = {
    exception.DBConnectionError: "check [database] connection",
    exception.DBVersionUnknown: "this code is older than the database; upgrade it",
    exception.BrokerUnreachable: "check [DEFAULT] transport_url",
    exception.BrokerRefused: (
        "check the user, password and virtual host of [DEFAULT] transport_url "
        "(rabbitmqctl list_users, list_vhosts, list_permissions)"
    ),
    exception.InProcessTransport: (
        "set [DEFAULT] transport_url = rabbit://USER:PASSWORD@HOST:5672/VHOST"
    ),
}


def setup(argv: Sequence[str] | None) -> bool:
    """Parse ``--config-file`` and friends and set up logging; print one line, False on error."""
    try:
        config.parse_args(sys.argv[1:] if argv is None else argv)
    except cfg.Error as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return False
    config.setup_logging()
    return True


def api_limits(conf: cfg.ConfigOpts = CONF) -> wsgi.Limits:
    """Return what one client may make the compute API's server hold (``[wsgi]``, ``[api]``)."""
    return wsgi.Limits(
        threads=conf.wsgi.threads,
        write_threads=conf.wsgi.write_threads,
        connections=conf.wsgi.max_connections,
        idle_timeout=conf.wsgi.client_socket_timeout,
        read_timeout=conf.wsgi.client_request_timeout,
        header_line=conf.wsgi.max_header_line,
        header_size=conf.wsgi.max_header_size,
        header_count=conf.wsgi.max_header_count,
        body_size=conf.api.max_request_body_size,
    )


def check_database() -> None:
    """Check that the database answers and has this code's schema (``db sync`` done).

    :raises nova.exception.DBConnectionError: the database cannot be reached.
    :raises nova.exception.DBSchemaOutdated: no schema or an older one.
    """
    migration.check_schema()


def check_broker(in_process: bool = False) -> None:
    """Check that the message broker of ``[DEFAULT] transport_url`` lets this service in.

    Before the service registers: one that cannot talk to the others must
    not look up. ``in_process``: only ``nova-all`` may use ``fake://``.

    :raises nova.exception.InProcessTransport: ``fake://`` outside ``nova-all``.
    :raises nova.exception.BrokerRefused: the broker refused the credentials.
    :raises nova.exception.BrokerUnreachable: no broker answers.
    """
    rpc.check_transport(in_process=in_process)


def error_line(binary: str, exc: BaseException) -> str:
    """Return the one line telling the operator why ``binary`` did not start."""
    message = exc.format_message() if isinstance(exc, exception.NovaException) else str(exc)
    message = message or type(exc).__name__
    advice = next((text for kind, text in ADVICE.items() if isinstance(exc, kind)), None)
    return f"ERROR: {binary} cannot start: {message}" + (f"; {advice}" if advice else "")


def fail(binary: str, exc: BaseException) -> int:
    """Print ``error_line()`` on stderr (the traceback goes to the debug log); return 1."""
    LOG.debug("%s start-up failed", binary, exc_info=exc)
    print(error_line(binary, exc), file=sys.stderr)
    return 1


def run_service(argv: Sequence[str] | None, binary: str, topic: str, manager_factory) -> int:
    """Run one RPC service (``nova-scheduler``, ``nova-compute``) until SIGTERM.

    :param manager_factory: makes the service's manager (its RPC endpoint).
    :returns: the exit status.
    """
    if not setup(argv):
        return 1
    try:
        check_database()
        check_broker()
        rpc_service = service.Service(binary, topic, manager_factory())
    except Exception as exc:  # noqa: BLE001 - one line for the operator
        return fail(binary, exc)
    service.run([rpc_service])
    return 0
