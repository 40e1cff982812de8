"""Create SQLAlchemy engines for Nova's database, tuned per backend.

SQLite is driven in SQLAlchemy's "transactional DDL" mode (the driver's own
implicit transactions are switched off and every transaction starts with an
explicit BEGIN), so a schema change that fails half-way rolls back instead
of leaving tables behind.
"""

from __future__ import annotations

import os

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

from nova import exception


def safe_url(url: str | sa.URL) -> str:
    """Return ``url`` with any password hidden, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except sa_exc.ArgumentError:
        return "<unparsable URL>"


def _enable_sqlite_transactions(engine: sa.Engine, foreign_keys: bool, busy_timeout: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Take transaction control away from the driver (see module doc).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA foreign_keys = {'ON' if foreign_keys else 'OFF'}")
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN")


def create_engine(
    url: str,
    *,
    foreign_keys: bool = True,
    echo: bool = False,
    pool_size: int = 5,
    pool_timeout: int = 30,
    sqlite_busy_timeout: int = 30,
) -> sa.Engine:
    """Create an engine for ``url`` and check that the database answers.

    :param foreign_keys: enforce foreign keys on SQLite (migrations turn this
        off, because rebuilding a table must not cascade into its children).
    :raises nova.exception.DBConnectionError: bad URL, missing driver or the
        database cannot be reached.
    """
    try:
        parsed = make_url(url)
    except sa_exc.ArgumentError as exc:
        raise exception.DBConnectionError(url=safe_url(url), reason=f"invalid URL ({exc})")

    kwargs: dict[str, object] = {"echo": echo, "future": True}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(parsed.database)), exist_ok=True)
    else:
        kwargs.update(pool_size=pool_size, pool_timeout=pool_timeout, pool_pre_ping=True)

    try:
        engine = sa.create_engine(parsed, **kwargs)
    except (sa_exc.ArgumentError, sa_exc.NoSuchModuleError, ImportError) as exc:
        raise exception.DBConnectionError(url=safe_url(url), reason=str(exc))

    if parsed.get_backend_name() == "sqlite":
        _enable_sqlite_transactions(engine, foreign_keys, sqlite_busy_timeout)

    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    except sa_exc.DBAPIError as exc:
        engine.dispose()
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise exception.DBConnectionError(url=safe_url(url), reason=reason)
    return engine
