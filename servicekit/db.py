"""SQLAlchemy engines tuned per backend, and the one way to run a transaction on them.

Every read and write of Nova and Quantum runs in ``reading(engine)`` or
``writing(engine)``: each yields a SQLAlchemy Core ``Connection``, commits
when the block ends and rolls back if it raises. Statements go through
SQLAlchemy's execution, so the ``sqlalchemy.engine`` logger (``echo``)
sees them, events see them and driver errors come out wrapped.

SQLite is driven in SQLAlchemy's "transactional DDL" mode: the driver's own
implicit transactions are switched off and every transaction starts with an
explicit BEGIN, so a schema change that fails half-way rolls back instead of
leaving tables behind. A writer's BEGIN is IMMEDIATE: a transaction that
reads and then writes would otherwise fail at once with "database is locked"
when another one holds the write lock, instead of waiting its turn. A
reader's is DEFERRED: under WAL it reads a snapshot and never waits for the
writer. The BEGIN is issued by ``reading``/``writing`` themselves, not by an
engine ``"begin"`` event: once an engine has any connection-event listener,
SQLAlchemy dispatches events around every statement it runs (measured here:
about 20 µs more per statement).

SQLite admits one writer at a time, and a writer that finds the lock taken
polls for it with growing sleeps (up to 100 ms each, SQLite's busy handler).
The writers of one process therefore queue on a lock of their own first,
which hands the database over the moment it is free; other processes still
meet in SQLite's lock. A writer waits for both within one bound
(``max_write_wait``), then fails with ``DBDeadlock``: a request that cannot
write soon is refused (503) instead of holding a thread, and the requests
queued behind it, for long.

Errors are classified by oslo.db's exception filters, installed as the
engine's ``handle_error`` listener only: a duplicate, a missing reference,
a deadlock or lock timeout and a lost connection come out as
``oslo_db.exception.DBDuplicateEntry``, ``DBReferenceError``,
``DBDeadlock`` and ``DBConnectionError`` (wrapping SQLAlchemy's
exception); any other error stays SQLAlchemy's own. ``handle_error`` is
a dialect event, run when a statement fails and never otherwise;
``exc_filters.register_engine`` would also listen to commit and rollback,
which are connection events and so put every statement on SQLAlchemy's
slow path (measured on SQLite: a read 18 µs without
listeners, 20 µs with ``handle_error``, 28 µs with ``register_engine``; with
a connection checkout 30 µs against 86 µs). The one error oslo.db does not
classify is SQLite's busy timeout running out, which has nothing but its
message ("database is locked"): it is matched here, once, and reported as
``DBDeadlock``, the class oslo.db gives MySQL's lock wait timeout. A failure
to check a connection out is ``DBConnectionError`` whatever the driver
said. ``unavailable(error)`` tells whether an error means "the database
cannot serve now, try again later" (a service answers 503): those, and a
full disk.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
import weakref
from typing import Any

import sqlalchemy as sa
from oslo_db import exception as db_exc
from oslo_db.sqlalchemy import exc_filters
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

# The write lock of each SQLite engine and how long to wait for it (seconds).
_write_locks: weakref.WeakKeyDictionary[sa.Engine, tuple[threading.Lock, float]] = (
    weakref.WeakKeyDictionary()
)


class EngineError(Exception):
    """An engine cannot be made: a bad URL, a missing driver, an unknown option value."""


@exc_filters.filters("sqlite", sa_exc.OperationalError, r".*database is locked")
def _sqlite_busy_timeout(error: Exception, match: Any, engine_name: str, is_disconnect: bool):
    raise db_exc.DBDeadlock(error)


# What the services act on; oslo.db's other classes (and its catch-all
# DBError) would tell them nothing more than SQLAlchemy's own exception.
_TRANSLATED = (
    db_exc.DBDuplicateEntry,
    db_exc.DBReferenceError,
    db_exc.DBDeadlock,
    db_exc.DBConnectionError,
)


def _translate(context: sa.engine.ExceptionContext) -> BaseException | None:
    error = exc_filters.handler(context)
    return error if isinstance(error, _TRANSLATED) else None


class _NoCatchAllWarning(logging.Filter):
    """Drop oslo.db's warning (with a traceback) for the errors ``_translate`` leaves alone."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() not in ("DBAPIError exception wrapped.", "DB exception wrapped.")


logging.getLogger(exc_filters.__name__).addFilter(_NoCatchAllWarning())


def safe_url(url: str | sa.URL) -> str:
    """Return ``url`` with any password hidden, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except sa_exc.ArgumentError:
        return "<unparsable URL>"


def _tune_sqlite(
    engine: sa.Engine, foreign_keys: bool, busy_timeout: float, wal: bool, synchronous: str
) -> None:
    # A pool event: it runs once per new driver connection, not per statement.
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


def create_engine(
    url: str,
    *,
    foreign_keys: bool = True,
    echo: bool = False,
    pool_size: int = 5,
    pool_timeout: int = 30,
    max_write_wait: float = 5,
    sqlite_synchronous: str = "FULL",
    pooled: bool = True,
    translate_errors: bool = True,
) -> sa.Engine:
    """Create an engine for ``url``; nothing is connected yet.

    :param foreign_keys: enforce foreign keys on SQLite (migrations turn this
        off, because rebuilding a table must not cascade into its children).
    :param echo: log every statement (the ``sqlalchemy.engine`` logger at
        INFO, through the service's own log handlers).
    :param max_write_wait: seconds a SQLite writer waits for the write lock,
        this process's and SQLite's together (then ``DBDeadlock``: 503).
    :param sqlite_synchronous: ``PRAGMA synchronous`` of a SQLite file in
        WAL mode: ``FULL`` syncs at every commit, ``NORMAL`` at checkpoints.
    :param pooled: keep connections open for reuse; a one-shot command
        opens exactly one connection instead.
    :param translate_errors: raise oslo.db's exceptions (see module doc)
        instead of SQLAlchemy's.
    :raises EngineError: bad URL, missing driver or unknown option value.
    """
    try:
        parsed = make_url(url)
    except sa_exc.ArgumentError as exc:
        raise EngineError(f"invalid URL ({exc})") from exc

    sqlite = parsed.get_backend_name() == "sqlite"
    if sqlite and sqlite_synchronous.upper() not in ("FULL", "NORMAL"):
        raise EngineError(f"unknown sqlite_synchronous {sqlite_synchronous!r}")
    if echo:
        # The service's own log handlers print them (SQLAlchemy's ``echo``
        # would add a second handler of its own: every line twice).
        logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)
    kwargs: dict[str, Any] = {}
    if not pooled:
        kwargs["poolclass"] = sa.pool.NullPool
    elif sqlite:
        # A SQLite connection is a file handle: never make a thread wait for one.
        kwargs.update(pool_size=pool_size, max_overflow=-1)
    else:
        kwargs.update(pool_size=pool_size, pool_timeout=pool_timeout, pool_pre_ping=True)
    in_memory = not parsed.database or parsed.database == ":memory:"
    if sqlite and not in_memory:
        os.makedirs(os.path.dirname(os.path.abspath(parsed.database or "")), exist_ok=True)

    try:
        engine = sa.create_engine(parsed, **kwargs)
    except (sa_exc.ArgumentError, sa_exc.NoSuchModuleError, ImportError) as exc:
        raise EngineError(str(exc)) from exc
    if translate_errors:
        event.listen(engine, "handle_error", _translate, retval=True)
    if sqlite:
        _tune_sqlite(
            engine,
            foreign_keys,
            max_write_wait,
            wal=not in_memory,
            synchronous=sqlite_synchronous.upper(),
        )
        _write_locks[engine] = (threading.Lock(), max_write_wait)
    return engine


def connect(engine: sa.Engine) -> sa.Connection:
    """Check a connection out of ``engine``'s pool.

    :raises oslo_db.exception.DBConnectionError: the database cannot be reached.
    :raises oslo_db.exception.DBDeadlock: SQLite: locked while the connection was set up.
    """
    try:
        return engine.connect()
    except (db_exc.DBConnectionError, db_exc.DBDeadlock):
        raise
    except (sa_exc.DBAPIError, db_exc.DBError) as exc:
        raise db_exc.DBConnectionError(exc) from exc


def begin_explicitly(connection: sa.Connection) -> None:
    """Begin every transaction SQLAlchemy begins on this SQLite ``connection`` with a BEGIN.

    For schema changes (transactional DDL: a migration that fails half-way
    rolls back), which run ``Connection.begin()`` themselves. The listener
    is the connection's own, so only its statements pay for the event
    (see module doc); a no-op on other backends.
    """
    if connection.dialect.name == "sqlite":
        event.listen(connection, "begin", _begin_immediate)


def _begin_immediate(connection: sa.Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _begin(connection: sa.Connection, begin: str, kept: sa.Connection | None) -> None:
    """Run ``begin`` (SQLite's BEGIN) on ``connection``; on failure end it as ``_end`` does."""
    try:
        connection.exec_driver_sql(begin)
    except BaseException:
        _end(connection, kept)
        raise


#: A wait for this process's write lock shorter than this (seconds) leaves
#: SQLite's busy timeout at the whole bound: writers of one process hand the
#: lock over every few milliseconds, and shortening the timeout costs two
#: ``PRAGMA busy_timeout`` statements a write (three a launched server). The
#: bound may then be passed by this much at most.
LOCK_WAIT_SLACK = 0.05


def _begin_immediate_within(
    connection: sa.Connection, kept: sa.Connection | None, left: float | None, bound: float
) -> None:
    """BEGIN IMMEDIATE on SQLite, waiting for another process's lock ``left`` seconds at most.

    ``left`` None: the whole bound, the connection's own busy timeout (no
    extra statement on the uncontended path). Otherwise the busy timeout is
    ``left`` for this BEGIN and the bound again after it; on failure the
    connection ends as ``_end`` does.
    """
    try:
        if left is not None:
            _busy_timeout(connection, left)
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        finally:
            if left is not None:
                _busy_timeout(connection, bound)
    except BaseException:
        _end(connection, kept)
        raise


def _busy_timeout(connection: sa.Connection, seconds: float) -> None:
    connection.exec_driver_sql(f"PRAGMA busy_timeout = {int(seconds * 1000)}")


def _end(connection: sa.Connection, kept: sa.Connection | None) -> None:
    """Roll back what ``connection`` did not commit; give it back unless the caller keeps it."""
    if connection is kept:
        connection.rollback()
    else:
        connection.close()


class reading:  # noqa: N801 - used as a function: ``with reading(engine) as conn``
    """A transaction that only reads: one snapshot, never waiting for a writer.

    ``with reading(engine) as connection``. On SQLite it begins DEFERRED.
    With ``single_statement`` (the block runs one statement), SQLite runs it
    in autocommit mode instead: a statement always reads one snapshot, so
    BEGIN would add nothing. It ends by a rollback, which costs a read no
    more than a commit and needs no second round trip at the pool's checkin.

    A class rather than a generator: it runs on every request, and
    ``contextlib.contextmanager`` costs microseconds per layer.

    :param connection: run on this connection of ``engine``, which the
        caller keeps (it is left open), instead of one from the pool.
    :raises oslo_db.exception.DBConnectionError: the database cannot be reached.
    """

    __slots__ = ("_connection", "_end", "_engine", "_explicit", "_given")

    def __init__(
        self,
        engine: sa.Engine,
        single_statement: bool = False,
        connection: sa.Connection | None = None,
    ) -> None:
        sqlite = engine.dialect.name == "sqlite"
        self._engine = engine
        self._explicit = not single_statement and sqlite  # a BEGIN of its own
        self._given = connection
        # One statement in SQLite's autocommit mode on a kept connection:
        # nothing to end.
        self._end = not (single_statement and sqlite and connection is not None)

    def __enter__(self) -> sa.Connection:
        connection = self._connection = self._given or connect(self._engine)
        if self._explicit:
            _begin(connection, "BEGIN", self._given)
        return connection

    def __exit__(self, *exc_info: object) -> None:
        if self._end:
            _end(self._connection, self._given)  # rolls the read back


class writing:  # noqa: N801 - used as a function: ``with writing(engine) as conn``
    """A transaction that may write, committed at the end of the block, rolled back on error.

    ``with writing(engine) as connection``. On SQLite it first waits for this
    process's write lock, then begins IMMEDIATE (so it never fails half-way
    for a lock another writer took after it read), both within the engine's
    ``max_write_wait`` in all: SQLite's busy timeout gets what is left of it.

    :param connection: run on this connection of ``engine``, which the
        caller keeps (it is left open), instead of one from the pool.
    :raises oslo_db.exception.DBConnectionError: the database cannot be reached.
    :raises oslo_db.exception.DBDeadlock: a lock could not be had in time.
    """

    __slots__ = ("_connection", "_engine", "_given", "_lock")

    def __init__(self, engine: sa.Engine, connection: sa.Connection | None = None) -> None:
        self._engine = engine
        self._given = connection
        self._lock: threading.Lock | None = None

    def __enter__(self) -> sa.Connection:
        entry = _write_locks.get(self._engine)
        left: float | None = None  # what is left of the bound once this process's lock waited
        if entry is not None:
            lock, bound = entry
            if lock.acquire(blocking=False):
                self._lock = lock
            else:
                started = time.monotonic()
                if lock.acquire(timeout=bound):
                    self._lock = lock
                # Not had: SQLite says at once whether the holder still writes.
                waited = time.monotonic() - started
                if waited >= LOCK_WAIT_SLACK or self._lock is None:
                    left = max(0.0, bound - waited)
        try:
            connection = self._connection = self._given or connect(self._engine)
            if entry is not None:
                _begin_immediate_within(connection, self._given, left, entry[1])
        except BaseException:
            self._release()
            raise
        return connection

    def __exit__(self, exc_type: type[BaseException] | None, *exc_info: object) -> None:
        try:
            if exc_type is None:
                try:
                    self._connection.commit()
                except BaseException:
                    _end(self._connection, self._given)
                    raise
            _end(self._connection, self._given)  # rolls back what was not committed
        finally:
            self._release()

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None


class KeptConnection(threading.local):
    """The connection each thread keeps for its transactions on a SQLite engine.

    ``kept.reading(engine)`` and ``kept.writing(engine)`` are ``reading``
    and ``writing`` on it instead of on a connection from the pool:
    checking one out, SQLAlchemy's begin and the rollback at the checkin
    cost ~20 µs a transaction (measured here), as much as a statement,
    while an idle SQLite connection holds no lock and no snapshot. A
    transaction begun while the kept connection is in use (one inside
    another) takes one from the pool, as does any on another backend; one
    that fails with a database error gives the kept connection back.
    Statements still go through SQLAlchemy's execution.
    """

    connection: sa.Connection | None = None
    busy = False

    def reading(
        self, engine: sa.Engine, single_statement: bool = False
    ) -> contextlib.AbstractContextManager[sa.Connection]:
        """``reading(engine, single_statement)`` on the kept connection."""
        if engine.dialect.name != "sqlite" or self.busy:
            return reading(engine, single_statement)
        return _Kept(self, reading, engine, single_statement)

    def writing(self, engine: sa.Engine) -> contextlib.AbstractContextManager[sa.Connection]:
        """``writing(engine)`` on the kept connection."""
        if engine.dialect.name != "sqlite" or self.busy:
            return writing(engine)
        return _Kept(self, writing, engine)

    def close(self) -> None:
        """Close the calling thread's kept connection (others close theirs at their next use)."""
        connection, self.connection, self.busy = self.connection, None, False
        if connection is not None:
            connection.close()


class _Kept(contextlib.AbstractContextManager):
    """A ``reading``/``writing`` transaction on a ``KeptConnection``."""

    __slots__ = ("_kept", "_transaction")

    def __init__(self, kept: KeptConnection, transaction: Any, engine: sa.Engine, *args: Any):
        connection = kept.connection
        if connection is None or connection.engine is not engine or connection.closed:
            if connection is not None:
                connection.close()  # of another engine, or one since disposed
            connection = kept.connection = connect(engine)
        self._kept = kept
        self._transaction = transaction(engine, *args, connection=connection)

    def __enter__(self) -> sa.Connection:
        self._kept.busy = True
        try:
            return self._transaction.__enter__()
        except BaseException:
            self._kept.close()
            raise

    def __exit__(self, exc_type: type[BaseException] | None, *exc_info: Any) -> None:
        try:
            self._transaction.__exit__(exc_type, *exc_info)
        except BaseException:
            self._kept.close()
            raise
        if exc_type is not None and issubclass(exc_type, sa_exc.SQLAlchemyError | db_exc.DBError):
            self._kept.close()
        self._kept.busy = False


def unavailable(error: BaseException) -> bool:
    """Tell whether ``error`` means the database cannot serve now but may soon.

    Unreachable (or the connection dropped), a lock not had in time
    (SQLite's busy timeout, a deadlock or lock wait the caller did not retry),
    or out of room: a full disk (SQLite's "database or disk is full",
    PostgreSQL's insufficient resources, SQLSTATE class 53; MySQL's full
    table or disk).
    """
    if isinstance(error, (db_exc.DBConnectionError, db_exc.DBDeadlock)):
        return True
    if isinstance(error, db_exc.DBError):
        error = error.inner_exception or error
    if not isinstance(error, sa_exc.DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    driver_error = error.orig
    if "database or disk is full" in str(driver_error):
        return True
    if str(getattr(driver_error, "sqlstate", "") or "").startswith("53"):
        return True
    args: tuple[Any, ...] = getattr(driver_error, "args", ())
    return bool(args) and args[0] in _MYSQL_OUT_OF_ROOM


# MySQL's "The table is full" (the disk, for InnoDB) and "Disk full".
_MYSQL_OUT_OF_ROOM = (1114, 1021)
