"""Create SQLAlchemy engines for Nova's database, tuned per backend.

SQLite is driven in SQLAlchemy's "transactional DDL" mode (the driver's own
implicit transactions are switched off and every transaction starts with an
explicit BEGIN), so a schema change that fails half-way rolls back instead
of leaving tables behind. That BEGIN is IMMEDIATE: a transaction that reads
and then writes would otherwise fail at once with "database is locked" when
another one holds the write lock, instead of waiting its turn. Transactions
that only read (connections of ``reader(engine)``) begin DEFERRED instead:
under WAL they read a snapshot and never wait for the writer.

SQLite admits one writer at a time, and a writer that finds the lock taken
polls for it with growing sleeps (up to 100 ms each, SQLite's busy handler).
The writers of one process therefore queue on a lock of their own first
(``writing(engine)``), which hands the database over the moment it is free;
other processes still meet in SQLite's lock.
"""

from __future__ import annotations

import contextlib
import os
import threading
import weakref
from collections.abc import Iterator

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

from nova import exception

#: Execution option marking connections whose transactions only read.
READ_ONLY = "nova_read_only"

# The write lock of each SQLite engine and how long to wait for it (seconds).
_write_locks: weakref.WeakKeyDictionary[sa.Engine, tuple[threading.Lock, float]] = (
    weakref.WeakKeyDictionary()
)


def safe_url(url: str | sa.URL) -> str:
    """Return ``url`` with any password hidden, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except sa_exc.ArgumentError:
        return "<unparsable URL>"


def _enable_sqlite_transactions(
    engine: sa.Engine, foreign_keys: bool, busy_timeout: int, wal: bool, synchronous: str
) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Take transaction control away from the driver (see module doc).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA foreign_keys = {'ON' if foreign_keys else 'OFF'}")
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        if wal:
            # Readers and the writer do not block each other.
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute(f"PRAGMA synchronous = {synchronous}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        if connection.get_execution_options().get(READ_ONLY):
            # Straight to the driver: a deferred BEGIN takes no lock and never
            # waits, and SQLAlchemy's statement handling would cost as much
            # as a short read.
            connection.connection.driver_connection.execute("BEGIN")
        else:
            # Through SQLAlchemy, so that a lock not got in time raises its
            # OperationalError, which the callers retry or report.
            connection.exec_driver_sql("BEGIN IMMEDIATE")


@contextlib.contextmanager
def writing(engine: sa.Engine, write: bool = True) -> Iterator[None]:
    """Hold this process's write lock of a SQLite ``engine`` around a transaction that may write.

    A no-op for other backends and when ``write`` is False. Not got within
    the busy timeout, the transaction goes on and SQLite decides (it
    refuses with "database is locked", as without this lock).
    """
    entry = _write_locks.get(engine) if write else None
    if entry is None:
        yield
        return
    lock, timeout = entry
    acquired = lock.acquire(timeout=timeout)
    try:
        yield
    finally:
        if acquired:
            lock.release()


def reader(engine: sa.Engine) -> sa.Engine:
    """Return ``engine`` for transactions that only read (same pool; see module doc)."""
    return engine.execution_options(**{READ_ONLY: True})


def create_engine(
    url: str,
    *,
    foreign_keys: bool = True,
    echo: bool = False,
    pool_size: int = 5,
    pool_timeout: int = 30,
    sqlite_busy_timeout: int = 30,
    sqlite_synchronous: str = "FULL",
    pooled: bool = True,
) -> sa.Engine:
    """Create an engine for ``url``; nothing is connected yet.

    :param foreign_keys: enforce foreign keys on SQLite (migrations turn this
        off, because rebuilding a table must not cascade into its children).
    :param sqlite_synchronous: ``PRAGMA synchronous`` of a SQLite file in
        WAL mode: ``FULL`` syncs at every commit, ``NORMAL`` at checkpoints.
    :param pooled: keep connections open for reuse; a one-shot command
        (``nova-manage``) opens exactly one connection instead.
    :raises nova.exception.DBConnectionError: bad URL or missing driver.
    """
    try:
        parsed = make_url(url)
    except sa_exc.ArgumentError as exc:
        raise exception.DBConnectionError(url=safe_url(url), reason=f"invalid URL ({exc})")

    sqlite = parsed.get_backend_name() == "sqlite"
    kwargs: dict[str, object] = {"echo": echo}
    if not pooled:
        kwargs["poolclass"] = sa.pool.NullPool
    elif not sqlite:
        kwargs.update(pool_size=pool_size, pool_timeout=pool_timeout, pool_pre_ping=True)
    if sqlite and parsed.database and parsed.database != ":memory:":
        os.makedirs(os.path.dirname(os.path.abspath(parsed.database)), exist_ok=True)

    try:
        engine = sa.create_engine(parsed, **kwargs)
    except (sa_exc.ArgumentError, sa_exc.NoSuchModuleError, ImportError) as exc:
        raise exception.DBConnectionError(url=safe_url(url), reason=str(exc))
    if sqlite:
        in_memory = not parsed.database or parsed.database == ":memory:"
        if sqlite_synchronous.upper() not in ("FULL", "NORMAL"):
            raise exception.DBConnectionError(
                url=safe_url(url), reason=f"unknown sqlite_synchronous {sqlite_synchronous!r}"
            )
        _enable_sqlite_transactions(
            engine,
            foreign_keys,
            sqlite_busy_timeout,
            wal=not in_memory,
            synchronous=sqlite_synchronous.upper(),
        )
        _write_locks[engine] = (threading.Lock(), sqlite_busy_timeout)
    return engine


@contextlib.contextmanager
def connect(engine: sa.Engine) -> Iterator[sa.Connection]:
    """Open a connection on ``engine``.

    :raises nova.exception.DBConnectionError: the database cannot be reached.
    """
    try:
        connection = engine.connect()
    except sa_exc.DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise exception.DBConnectionError(url=safe_url(engine.url), reason=reason)
    with connection:
        yield connection
