"""``nova-manage``: operator commands (``db sync``, ``db version``).

A failure prints one line starting with ``ERROR:`` on stderr and exits
non-zero; ``--debug`` adds the traceback.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from oslo_config import cfg
from sqlalchemy import exc as sa_exc

import nova.conf
from nova import config
from nova import exception
from nova.db import migration

CONF = nova.conf.CONF
LOG = logging.getLogger("nova.manage")

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_UNEXPECTED = 2


def db_sync() -> None:
    """Upgrade or downgrade the schema and print each step."""
    result = migration.db_sync(CONF.category.version)
    for line in result.notes + result.steps:
        print(line)
    if result.start == result.end:
        print(f"Database already at version {result.end}; nothing to do.")
    else:
        print(f"Database is at version {result.end} (was {result.start}).")


def db_version() -> None:
    """Print the schema version number."""
    print(migration.db_version())


def _add_command_parsers(subparsers) -> None:
    db = subparsers.add_parser("db", help="database schema commands")
    actions = db.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    sync = actions.add_parser("sync", help="upgrade (or downgrade) the schema")
    sync.add_argument(
        "--version",
        type=int,
        default=None,
        help="target version number (default: the newest); lower than the "
        "current version downgrades",
    )
    sync.set_defaults(func=db_sync)
    version = actions.add_parser("version", help="print the schema version number")
    version.set_defaults(func=db_version)


category_opt = cfg.SubCommandOpt(
    "category", title="Command categories", handler=_add_command_parsers
)
debug_opt = cfg.BoolOpt("debug", default=False, help="Print tracebacks and debug logs.")


def _error_line(exc: BaseException) -> str:
    if isinstance(exc, exception.NovaException):
        return exc.format_message()
    if isinstance(exc, sa_exc.DBAPIError) and exc.orig is not None:
        return f"database error: {str(exc.orig).strip().splitlines()[0]}"
    return f"unexpected {type(exc).__name__}: {exc}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``nova-manage`` command; return the exit status."""
    CONF.register_cli_opt(category_opt)
    CONF.register_cli_opt(debug_opt)
    try:
        try:
            config.parse_args(sys.argv[1:] if argv is None else argv, default_config_files=[])
        except cfg.Error as exc:
            print(f"ERROR: {exc}", file=sys.stderr)
            return EXIT_ERROR
        logging.basicConfig(
            level=logging.DEBUG if CONF.debug else logging.WARNING,
            format="%(asctime)s %(levelname)s %(name)s %(message)s",
        )
        try:
            CONF.category.func()
        except (exception.NovaException, sa_exc.SQLAlchemyError) as exc:
            LOG.debug("Command failed", exc_info=True)
            print(f"ERROR: {_error_line(exc)}", file=sys.stderr)
            return EXIT_ERROR
        except Exception as exc:  # noqa: BLE001 - one line for the operator
            LOG.debug("Command failed unexpectedly", exc_info=True)
            print(f"ERROR: {_error_line(exc)}", file=sys.stderr)
            return EXIT_UNEXPECTED
        return EXIT_OK
    finally:
        CONF.reset()
        CONF.unregister_opt(category_opt)
        CONF.unregister_opt(debug_opt)


if __name__ == "__main__":
    sys.exit(main())
