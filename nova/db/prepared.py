"""Prepared reads: hot SELECTs compiled once, run straight on a pooled driver connection.

The API's commonest requests (a server, the VIFs of a server) are one or two
small SELECTs. Through SQLAlchemy's ``Connection`` each costs several times
what the database takes (connection object, events, execution context,
result object); here a statement is compiled once per dialect and then run
on the driver's cursor of a connection checked out of the engine's pool,
with the column types' own result processors (SQLite returns dates as
text) applied to the rows. Pooling, the per-connection set-up (PRAGMAs) and
error translation stay SQLAlchemy's: a driver error comes out as the same
``sqlalchemy.exc.DBAPIError`` subclass ``Connection`` would raise, and a
connection the dialect reports as dropped is invalidated.

Only what can be done correctly this way is accepted: statements without
parameters that need processing or post-compile rendering (``IN`` lists,
``LIMIT`` on some dialects), which fail when prepared, not when run.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc


class PreparedRead:
    """A SELECT compiled once per dialect."""

    def __init__(self, statement: sa.Select) -> None:
        self.statement = statement
        self._compiled: dict[str, tuple[str, tuple[str, ...] | None, dict, list]] = {}

    def _compile(self, dialect: sa.Dialect) -> tuple[str, tuple[str, ...] | None, dict, list]:
        compiled = self._compiled.get(dialect.name)
        if compiled is not None:
            return compiled
        statement = self.statement.compile(dialect=dialect)
        sql = str(statement)
        if "POSTCOMPILE" in sql:
            raise ValueError(f"a prepared read cannot render parameters late: {sql}")
        for name, bind in statement.binds.items():
            if bind.type.dialect_impl(dialect).bind_processor(dialect) is not None:
                raise ValueError(f"parameter {name} needs processing; not a prepared read")
        order = tuple(statement.positiontup) if statement.positional else None
        # The values written into the statement (``vm_state == "error"``).
        constants = {
            name: bind.effective_value
            for name, bind in statement.binds.items()
            if not bind.required
        }
        processors = [
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in self.statement.selected_columns
        ]
        compiled = (sql, order, constants, processors)
        self._compiled[dialect.name] = compiled
        return compiled

    def run(self, engine: sa.Engine, params: dict[str, Any]) -> list[tuple]:
        """Run the statement on its own (one statement is its own snapshot); return its rows."""
        with reading(engine, single_statement=True) as reader:
            return self.rows(reader, params)

    def rows(self, reader: Reader, params: dict[str, Any]) -> list[tuple]:
        """Run the statement in ``reader``'s transaction; return its rows as tuples."""
        sql, order, constants, processors = self._compile(reader.dialect)
        params = {**constants, **params}
        arguments = tuple(params[name] for name in order) if order is not None else params
        rows = reader.execute(sql, arguments)
        if not any(processors):
            return rows
        return [
            tuple(
                value if process is None else process(value)
                for process, value in zip(processors, row, strict=True)
            )
            for row in rows
        ]


class Reader:
    """One read-only transaction on a pooled driver connection (see ``reading``)."""

    def __init__(self, engine: sa.Engine, connection) -> None:
        self.dialect = engine.dialect
        self._connection = connection
        self._cursor = connection.cursor()

    def execute(self, sql: str, arguments: Any) -> list[tuple]:
        """Run ``sql`` and fetch every row; driver errors become SQLAlchemy's."""
        try:
            self._cursor.execute(sql, arguments)
            rows = self._cursor.fetchall()
        except self.dialect.loaded_dbapi.Error as error:
            raise self._translate(error, sql, arguments) from error
        # PyMySQL answers a tuple of tuples.
        return rows if isinstance(rows, list) else list(rows)

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

    def finish(self) -> None:
        """End the transaction (it wrote nothing: a commit is the cheapest end)."""
        try:
            self._connection.commit()
        except self.dialect.loaded_dbapi.Error as error:
            raise self._translate(error, None, None) from error


@contextlib.contextmanager
def reading(engine: sa.Engine, single_statement: bool = False) -> Iterator[Reader]:
    """Check a connection out of ``engine``'s pool and read in one transaction on it.

    On SQLite the transaction is begun explicitly (``nova.db.engine`` takes
    transaction control away from the driver) and DEFERRED, as every
    read-only transaction there; other drivers begin one implicitly. With
    ``single_statement``, SQLite runs the one statement in autocommit mode:
    a statement always reads one snapshot, so BEGIN and COMMIT add nothing.

    :raises sqlalchemy.exc.DBAPIError: the database failed (or cannot be reached).
    """
    try:
        connection = engine.raw_connection()
    except engine.dialect.loaded_dbapi.Error as error:
        raise sa_exc.DBAPIError.instance(
            None, None, error, engine.dialect.loaded_dbapi.Error, dialect=engine.dialect
        ) from error
    try:
        reader = Reader(engine, connection)
        if engine.dialect.name == "sqlite" and not single_statement:
            reader.execute("BEGIN", ())
        yield reader
        reader.finish()
    finally:
        connection.close()  # back to the pool, which rolls back anything left
