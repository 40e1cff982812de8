"""Prepared statements: hot SQL compiled once, run straight on a pooled driver connection.

The launch pipeline and the API's commonest requests are small statements:
read a server or its VIFs, insert an instance, move it to its next task
state, claim room on a host. Through SQLAlchemy's ``Session`` or
``Connection`` each costs twenty times what the database takes (session,
connection object, events, cache key, execution context, result object);
here a statement is compiled once per dialect and then run on the driver's
cursor of a connection checked out of the engine's pool. The column types'
own bind and result processors are applied (SQLite stores dates as text).
Pooling, the per-connection set-up (PRAGMAs) and error translation stay
SQLAlchemy's: a driver error comes out as the same ``sqlalchemy.exc.DBAPIError``
subclass ``Connection`` would raise (``IntegrityError`` for a duplicate, the
``OperationalError`` of a locked or unreachable database), and a connection
the dialect reports as dropped is invalidated.

Transactions: ``reading(engine)`` reads one snapshot (DEFERRED on SQLite,
never waiting for a writer); ``writing(engine)`` may write, behind this
process's write lock and ``BEGIN IMMEDIATE`` on SQLite, exactly like the
ORM's transactions of ``nova.db.engine``; it commits when the block ends
and rolls back if it raises.

Only what can be run correctly this way is accepted: statements whose
parameters are rendered into the SQL text when run (expanding ``IN`` lists,
``LIMIT`` on some dialects) are refused when compiled.

Every statement is compiled when its module is imported and an engine is
made (``compile_all``, called by the services as they open their
database), so the first requests do not pay for it.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from nova.db import engine as db_engine


class _Compiled(NamedTuple):
    sql: str
    order: tuple[str, ...] | None  # parameter names in order (positional drivers)
    constants: dict[str, Any]  # values written into the statement (``deleted == 0``)
    bind_processors: tuple[tuple[str, Callable[[Any], Any]], ...]
    result_processors: tuple[Callable[[Any], Any] | None, ...]


class Prepared:
    """A statement (SELECT, INSERT, UPDATE, DELETE, with RETURNING or not) compiled once."""

    def __init__(self, statement: sa.Executable) -> None:
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}
        _ALL.add(self)

    def _compile(self, dialect: sa.Dialect) -> _Compiled:
        compiled = self._compiled.get(dialect.name)
        if compiled is not None:
            return compiled
        statement = self.statement.compile(dialect=dialect)
        sql = str(statement)
        if "POSTCOMPILE" in sql:
            raise ValueError(f"a prepared statement cannot render parameters late: {sql}")
        bind_processors = []
        for name, bind in statement.binds.items():
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                bind_processors.append((name, process))
        columns = getattr(self.statement, "exported_columns", ())
        compiled = _Compiled(
            sql=sql,
            order=tuple(statement.positiontup) if statement.positional else None,
            constants={
                name: bind.effective_value
                for name, bind in statement.binds.items()
                if not bind.required
            },
            bind_processors=tuple(bind_processors),
            result_processors=tuple(
                column.type.dialect_impl(dialect).result_processor(dialect, None)
                for column in columns
            ),
        )
        self._compiled[dialect.name] = compiled
        return compiled

    def _arguments(self, compiled: _Compiled, params: dict[str, Any]) -> Any:
        params = {**compiled.constants, **params}
        for name, process in compiled.bind_processors:
            if name in params:
                params[name] = process(params[name])
        return tuple(params[name] for name in compiled.order) if compiled.order else params

    def rows(self, transaction: Transaction, params: dict[str, Any]) -> list[tuple]:
        """Run the statement in ``transaction``; return its rows (SELECT, RETURNING) as tuples."""
        compiled = self._compile(transaction.dialect)
        rows = transaction.execute(compiled.sql, self._arguments(compiled, params))
        processors = compiled.result_processors
        if not any(processors):
            return rows
        return [
            tuple(
                value if process is None else process(value)
                for process, value in zip(processors, row, strict=True)
            )
            for row in rows
        ]

    def count(self, transaction: Transaction, params: dict[str, Any]) -> int:
        """Run the statement in ``transaction``; return how many rows it changed."""
        compiled = self._compile(transaction.dialect)
        transaction.execute(compiled.sql, self._arguments(compiled, params))
        return transaction.rowcount

    def run(self, engine: sa.Engine, params: dict[str, Any]) -> list[tuple]:
        """Read with the statement on its own (one statement is its own snapshot)."""
        with reading(engine, single_statement=True) as transaction:
            return self.rows(transaction, params)


_ALL: weakref.WeakSet[Prepared] = weakref.WeakSet()  # every statement made


def compile_all(dialect: sa.Dialect) -> None:
    """Compile every statement made so far for ``dialect`` (at start-up, not in a request).

    A statement the dialect cannot compile is left alone: it fails where it
    is run, as it would have anyway (MySQL has no INSERT ... RETURNING,
    which ``PreparedInsert`` therefore never runs there).
    """
    for statement in list(_ALL):
        try:
            statement._compile(dialect)
        except (sa_exc.CompileError, ValueError):
            continue


class Transaction:
    """One transaction on a pooled driver connection (see ``reading`` and ``writing``)."""

    def __init__(self, engine: sa.Engine, connection) -> None:
        self.dialect = engine.dialect
        self._connection = connection
        self._cursor = connection.cursor()
        #: Rows changed by the last statement.
        self.rowcount = -1

    def execute(self, sql: str, arguments: Any) -> list[tuple]:
        """Run ``sql``; return its rows, if it has any. Driver errors become SQLAlchemy's."""
        cursor = self._cursor
        try:
            cursor.execute(sql, arguments)
            rows = cursor.fetchall() if cursor.description is not None else []
        except self.dialect.loaded_dbapi.Error as error:
            raise self._translate(error, sql, arguments) from error
        self.rowcount = cursor.rowcount
        # PyMySQL answers a tuple of tuples.
        return rows if isinstance(rows, list) else list(rows)

    @property
    def lastrowid(self) -> int:
        """The id the last INSERT generated (drivers without RETURNING: MySQL's)."""
        return self._cursor.lastrowid

    def _translate(self, error: Exception, sql: str | None, arguments: Any) -> sa_exc.DBAPIError:
        dropped = self.dialect.is_disconnect(error, self._connection.dbapi_connection, self._cursor)
        if dropped:
            self._connection.invalidate(error)
        return sa_exc.DBAPIError.instance(
            sql,
            arguments,
            error,
            self.dialect.loaded_dbapi.Error,
            connection_invalidated=dropped,
            dialect=self.dialect,
        )

    def commit(self) -> None:
        """End the transaction, keeping what it wrote (for a read: the cheapest end)."""
        try:
            self._connection.commit()
        except self.dialect.loaded_dbapi.Error as error:
            raise self._translate(error, None, None) from error


@contextlib.contextmanager
def _transaction(engine: sa.Engine, begin: str | None) -> Iterator[Transaction]:
    try:
        connection = engine.raw_connection()
    except engine.dialect.loaded_dbapi.Error as error:
        raise sa_exc.DBAPIError.instance(
            None, None, error, engine.dialect.loaded_dbapi.Error, dialect=engine.dialect
        ) from error
    try:
        transaction = Transaction(engine, connection)
        if begin and engine.dialect.name == "sqlite":
            transaction.execute(begin, ())
        yield transaction
        transaction.commit()
    finally:
        connection.close()  # back to the pool, which rolls back anything left


@contextlib.contextmanager
def reading(engine: sa.Engine, single_statement: bool = False) -> Iterator[Transaction]:
    """Check a connection out of ``engine``'s pool and read in one transaction on it.

    On SQLite the transaction is begun explicitly (``nova.db.engine`` takes
    transaction control away from the driver) and DEFERRED, as every
    read-only transaction there; other drivers begin one implicitly. With
    ``single_statement``, SQLite runs the one statement in autocommit mode:
    a statement always reads one snapshot, so BEGIN and COMMIT add nothing.

    :raises sqlalchemy.exc.DBAPIError: the database failed (or cannot be reached).
    """
    with _transaction(engine, None if single_statement else "BEGIN") as transaction:
        yield transaction


@contextlib.contextmanager
def writing(engine: sa.Engine) -> Iterator[Transaction]:
    """A transaction that may write, committed at the end of the block, rolled back on error.

    On SQLite it waits for this process's write lock (``nova.db.engine.writing``)
    and begins IMMEDIATE, so it never fails half-way for a lock another
    writer took after it read.

    :raises sqlalchemy.exc.DBAPIError: the database failed (or cannot be reached).
    """
    with db_engine.writing(engine), _transaction(engine, "BEGIN IMMEDIATE") as transaction:
        yield transaction


class PreparedInsert:
    """An INSERT of one whole row of ``table``, its generated id read back.

    Columns left out get their Python-side default (``created_at``,
    ``deleted``) or NULL, as the ORM would write them, so the row inserted
    is known in full without reading it back.
    """

    def __init__(self, table: sa.Table) -> None:
        (self._id,) = table.primary_key.columns
        self.columns = tuple(column for column in table.columns if column is not self._id)
        self._keys = frozenset(column.key for column in self.columns)
        self._defaults = {
            column.key: column.default for column in self.columns if column.default is not None
        }
        insert = sa.insert(table).values(
            {column: sa.bindparam(column.key, type_=column.type) for column in self.columns}
        )
        self._returning = Prepared(insert.returning(self._id))
        self._plain = Prepared(insert)

    def values(self, values: dict[str, Any]) -> dict[str, Any]:
        """Return the full row ``values`` make (defaults filled in), without the id.

        :raises TypeError: a key that is not a column (as the ORM's constructor).
        """
        unknown = values.keys() - self._keys
        if unknown:
            raise TypeError(f"not columns of {self._id.table.name}: {', '.join(sorted(unknown))}")
        row = dict.fromkeys(self._keys)
        for key, default in self._defaults.items():
            if key not in values:
                row[key] = default.arg(None) if default.is_callable else default.arg
        row.update(values)
        return row

    def insert(self, transaction: Transaction, row: dict[str, Any]) -> int:
        """Insert ``row`` (from ``values``); return its new id."""
        if transaction.dialect.insert_returning:
            ((new_id,),) = self._returning.rows(transaction, row)
            return new_id
        self._plain.count(transaction, row)  # MySQL: the driver knows the id
        return transaction.lastrowid
