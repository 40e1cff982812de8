"""Schema migrations: ``db sync`` and ``db version`` on top of Alembic.

Revisions live in the top-level ``migrations`` package and are numbered
``001``, ``002``, ...; version 0 is an empty database. Each revision runs in
its own transaction (SQLite and PostgreSQL roll a failed one back entirely;
MySQL cannot roll back DDL), so a failure leaves the database at the last
revision that completed.

Alembic is driven through its commands (``alembic.command``), on a
connection Nova opens and hands to ``migrations/env.py``; Alembic's own
logging configuration is left out so that oslo.log's stays. Each step is
logged once, here (``alembic`` itself is quiet below WARNING, see
``nova.config``).
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import os

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

import migrations
import nova.conf
from migrations import helpers
from nova import exception
from nova.db import engine as db_engine

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)

MIGRATIONS_DIR = os.path.dirname(os.path.abspath(migrations.__file__))
_SQLITE_LEFTOVER_PREFIX = "_alembic_tmp_"


@dataclasses.dataclass
class SyncResult:
    """What ``db_sync`` did, for the operator."""

    start: int
    end: int
    steps: list[str] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)


def revision_id(version: int) -> str:
    """Return the Alembic revision id of version number ``version``."""
    return f"{version:03d}"


def version_number(revision: str | None) -> int:
    """Return the version number of an Alembic revision id (None is 0)."""
    return int(revision) if revision else 0


@functools.cache
def _script_directory() -> ScriptDirectory:
    # Cached: reading the revision files is most of a small sync's cost.
    return ScriptDirectory(MIGRATIONS_DIR)


def head_version() -> int:
    """Return the newest version the code knows."""
    return version_number(_script_directory().get_current_head())


# --- the Alembic environment (migrations/env.py calls this) -----------------


def run_environment(context) -> None:
    """Run the migrations Alembic asked for, on the connection it was given.

    ``nova-manage`` passes an open connection in
    ``config.attributes["connection"]``; the plain ``alembic`` command gets
    one from ``-x nova-config=FILE`` or the default configuration.
    """
    if context.is_offline_mode():
        raise exception.DBMigrationError(
            reason="offline (--sql) mode is not supported; use nova-manage db sync"
        )
    config = context.config
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_migrations(context, connection)
        return
    config_file = context.get_x_argument(as_dictionary=True).get("nova-config")
    CONF([], project="nova", default_config_files=[config_file] if config_file else [])
    engine = _create_engine(CONF.database.connection)
    try:
        with db_engine.connect(engine) as connection:
            _run_migrations(context, connection)
            connection.commit()
    finally:
        engine.dispose()


def _run_migrations(context, connection: sa.Connection) -> None:
    options = {}
    if connection.dialect.name == "sqlite":
        # Our SQLite engine makes DDL transactional (see nova.db.engine).
        options["transactional_ddl"] = True
    context.configure(
        connection=connection,
        render_as_batch=True,
        transaction_per_migration=True,
        on_version_apply=context.config.attributes.get("on_version_apply"),
        **options,
    )
    with context.begin_transaction():
        context.run_migrations()


# --- db version / db sync ----------------------------------------------------


def _create_engine(url: str) -> sa.Engine:
    # Foreign keys are not enforced on SQLite while migrating: rebuilding a
    # parent table (batch mode) would otherwise cascade into its children.
    return db_engine.create_engine(url, foreign_keys=False, pooled=False)


def _alembic_config(connection: sa.Connection, result: SyncResult | None = None) -> Config:
    """Return the configuration of an Alembic command run on ``connection``."""
    config = Config()
    config.set_main_option("script_location", MIGRATIONS_DIR)
    config.attributes["connection"] = connection
    # migrations/env.py configures logging only for the plain alembic command.
    config.attributes["configure_logger"] = False
    if result is not None:

        def on_version_apply(ctx, step, heads, run_args) -> None:
            doc = (step.up_revision.doc or "").strip().splitlines()[0]
            lower = version_number(step.down_revision_ids[0] if step.down_revision_ids else None)
            upper = version_number(step.up_revision_id)
            if step.is_upgrade:
                line = f"upgraded {lower} -> {upper}: {doc}"
            else:
                line = f"downgraded {upper} -> {lower}: undid {doc}"
            result.steps.append(line)
            LOG.info("Database %s", line)

        config.attributes["on_version_apply"] = on_version_apply
    return config


def _unversioned_version(connection: sa.Connection) -> int:
    """Guess the version of a database whose tables predate version control."""
    inspector = sa.inspect(connection)
    tables = set(inspector.get_table_names())
    if "instances" not in tables:
        return 0
    if "virtual_interfaces" not in tables:
        return 1
    columns = {column["name"]: column for column in inspector.get_columns("virtual_interfaces")}
    if "uuid" not in columns:
        return 2
    if not columns["network_id"]["nullable"]:
        return 3
    if "port_id" not in columns:
        return 4
    return 5


def _read_version(connection: sa.Connection) -> tuple[int, bool]:
    """Return the database's version and whether it is under version control."""
    revision = MigrationContext.configure(connection).get_current_revision()
    if revision is not None:
        return _parse_version(revision), True
    return _unversioned_version(connection), False


def _current_version(connection: sa.Connection, notes: list[str]) -> int:
    """Return the database's version, placing it under version control if needed."""
    version, versioned = _read_version(connection)
    connection.commit()
    if not versioned and version:
        command.stamp(_alembic_config(connection), revision_id(version))
        connection.commit()
        notes.append(
            f"The database had Nova tables but no version table; "
            f"placed it under version control at version {version}."
        )
    return version


def _remove_sqlite_leftovers(connection: sa.Connection, notes: list[str]) -> None:
    """Drop the temporary tables an interrupted SQLite batch step left behind.

    A leftover is only dropped while the table it was rebuilding still exists:
    then the leftover holds nothing the original does not.
    """
    if connection.dialect.name != "sqlite":
        return
    tables = set(sa.inspect(connection).get_table_names())
    for leftover in sorted(t for t in tables if t.startswith(_SQLITE_LEFTOVER_PREFIX)):
        original = leftover[len(_SQLITE_LEFTOVER_PREFIX) :]
        if original not in tables:
            raise exception.DBMigrationError(
                reason=f"table {original} is missing and {leftover} holds its rows; "
                f"restore from backup or rename {leftover} to {original} by hand"
            )
        connection.exec_driver_sql(f'DROP TABLE "{leftover}"')
        notes.append(f"Removed {leftover}, left behind by an interrupted migration.")
    # End the transaction the inspection began: Alembic then runs each
    # revision in its own transaction.
    connection.commit()


def _check_downgrade(connection: sa.Connection, current: int, target: int) -> None:
    """Run every check of the revisions a downgrade would undo, before any runs."""
    script = _script_directory()
    for version in range(current, target, -1):
        module = script.get_revision(revision_id(version)).module
        check = getattr(module, "check_downgrade", None)
        if check is not None:
            reason = check(connection)
            if reason:
                raise exception.DBDowngradeRefused(version=target, reason=reason)
    # The checks only read: end their transaction before Alembic begins its own.
    connection.commit()


def _migrate(connection: sa.Connection, target: int, result: SyncResult) -> None:
    """Move the database on ``connection`` to version ``target`` with Alembic's commands."""
    head = head_version()
    current = _current_version(connection, result.notes)
    if current > head:
        raise exception.DBVersionUnknown(version=current, known=f"0 to {head}")
    result.start = current
    destination = revision_id(target) if target else "base"
    config = _alembic_config(connection, result)
    if target > current:
        command.upgrade(config, destination)
    elif target < current:
        _check_downgrade(connection, current, target)
        try:
            command.downgrade(config, destination)
        except helpers.DowngradeRefused as exc:
            raise exception.DBDowngradeRefused(version=exc.version, reason=exc.reason) from exc
    connection.commit()
    result.end = target


def _parse_version(revision: str | None) -> int:
    try:
        return version_number(revision)
    except ValueError as exc:
        raise exception.DBVersionUnknown(version=revision, known="numbered revisions") from exc


def _database_url(url: str | None) -> str:
    return url if url is not None else CONF.database.connection


def db_version(url: str | None = None) -> int:
    """Return the version of the database at ``url`` (default: configured).

    A database with Nova's tables but no version table is placed under
    version control.

    :raises nova.exception.DBConnectionError: the database cannot be reached.
    """
    engine = _create_engine(_database_url(url))
    try:
        with db_engine.connect(engine) as connection:
            return _current_version(connection, [])
    finally:
        engine.dispose()


def check_schema(url: str | None = None) -> None:
    """Check, changing nothing, that the database's schema is the one this code needs.

    :raises nova.exception.DBConnectionError: the database cannot be reached.
    :raises nova.exception.DBSchemaOutdated: no schema, or an older one.
    :raises nova.exception.DBVersionUnknown: a newer schema than this code knows.
    """
    head = head_version()
    engine = _create_engine(_database_url(url))
    try:
        with db_engine.connect(engine) as connection:
            version, _versioned = _read_version(connection)
    finally:
        engine.dispose()
    if version > head:
        raise exception.DBVersionUnknown(version=version, known=f"0 to {head}")
    if version < head:
        raise exception.DBSchemaOutdated(version=version, head=head)


def db_sync(version: int | None = None, url: str | None = None) -> SyncResult:
    """Upgrade or downgrade the database to ``version`` (default: newest).

    :raises nova.exception.DBVersionUnknown: ``version`` is not a known version.
    :raises nova.exception.DBDowngradeRefused: the downgrade would lose data;
        nothing was changed.
    :raises nova.exception.DBConnectionError: the database cannot be reached.
    """
    head = head_version()
    target = head if version is None else version
    if not 0 <= target <= head:
        raise exception.DBVersionUnknown(version=target, known=f"0 to {head}")

    engine = _create_engine(_database_url(url))
    try:
        with db_engine.connect(engine) as connection:
            result = SyncResult(start=0, end=0)
            _remove_sqlite_leftovers(connection, result.notes)
            _migrate(connection, target, result)
    finally:
        engine.dispose()
    return result
