"""Schema migrations: ``db sync`` and ``db version`` on top of Alembic.

Revisions live in the top-level ``migrations`` package and are numbered
``001``, ``002``, ...; version 0 is an empty database. Each revision runs in
its own transaction (SQLite and PostgreSQL roll a failed one back entirely;
MySQL cannot roll back DDL), so a failure leaves the database at the last
revision that completed.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import os

import sqlalchemy as sa
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

import migrations
import nova.conf
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


def refuse_downgrade_if(reason: str | None, down_revision: str | None) -> None:
    """Raise ``DBDowngradeRefused`` when a revision's check found a ``reason``."""
    if reason:
        raise exception.DBDowngradeRefused(version=version_number(down_revision), reason=reason)


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


def _current_version(connection: sa.Connection, notes: list[str]) -> int:
    """Return the database's version, placing it under version control if needed."""
    context = MigrationContext.configure(connection)
    revision = context.get_current_revision()
    if revision is not None:
        return _parse_version(revision)
    guessed = _unversioned_version(connection)
    if guessed:
        context.stamp(_script_directory(), revision_id(guessed))
        connection.commit()
        notes.append(
            f"The database had Nova tables but no version table; "
            f"placed it under version control at version {guessed}."
        )
    return guessed


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
            refuse_downgrade_if(check(connection), revision_id(target) if target else None)


class _Unversioned(Exception):
    """The database has Nova tables but no version: stamp it, then migrate."""


def _migrate(connection: sa.Connection, target: int, result: SyncResult) -> None:
    """Move the database on ``connection`` to version ``target``.

    This is ``alembic upgrade``/``downgrade`` without re-reading the revision
    files and ``env.py`` on every call. The plan is made once Alembic has
    read the current version, so the version is read only once; the
    downgrade checks of every revision to undo run before any of them does.
    """
    script = _script_directory()
    head = version_number(script.get_current_head())
    destination = revision_id(target) if target else "base"

    def plan(heads, _context):
        if not heads and _unversioned_version(connection):
            raise _Unversioned()
        current = _parse_version(heads[0] if heads else None)
        if current > head:
            raise exception.DBVersionUnknown(version=current, known=f"0 to {head}")
        result.start = current
        if target > current:
            return script._upgrade_revs(destination, heads)
        if target < current:
            _check_downgrade(connection, current, target)
            return script._downgrade_revs(destination, heads)
        return []

    def on_version_apply(ctx, step, heads, run_args):
        doc = (step.up_revision.doc or "").strip().splitlines()[0]
        lower = version_number(step.down_revision_ids[0] if step.down_revision_ids else None)
        upper = version_number(step.up_revision_id)
        if step.is_upgrade:
            result.steps.append(f"upgraded {lower} -> {upper}: {doc}")
        else:
            result.steps.append(f"downgraded {upper} -> {lower}: undid {doc}")

    config = Config()
    config.set_main_option("script_location", MIGRATIONS_DIR)
    config.attributes["on_version_apply"] = on_version_apply
    with EnvironmentContext(config, script, fn=plan, destination_rev=destination) as env:
        _run_migrations(env, connection)
    connection.commit()
    result.end = target


def _parse_version(revision: str | None) -> int:
    try:
        return version_number(revision)
    except ValueError:
        raise exception.DBVersionUnknown(version=revision, known="numbered revisions")


def _database_url(url: str | None) -> str:
    return url if url is not None else CONF.database.connection


def db_version(url: str | None = None) -> int:
    """Return the version of the database at ``url`` (default: configured).

    :raises nova.exception.DBConnectionError: the database cannot be reached.
    """
    engine = _create_engine(_database_url(url))
    try:
        with db_engine.connect(engine) as connection:
            version = _current_version(connection, [])
            connection.commit()
            return version
    finally:
        engine.dispose()


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
            try:
                _migrate(connection, target, result)
            except _Unversioned:
                connection.rollback()
                _current_version(connection, result.notes)
                _migrate(connection, target, result)
    finally:
        engine.dispose()
    for step in result.steps:
        LOG.info("Database %s", step)
    return result
