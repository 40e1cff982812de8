"""Nova's engines: ``servicekit.db``'s, failing with Nova's exceptions.

The data API's engine is ``nova.db.session.get_engine()``; this module also
makes the one-shot engines of migrations and ``nova-manage``, which see
SQLAlchemy's own errors unless asked otherwise.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import sqlalchemy as sa
from oslo_db import exception as db_exc

from nova import exception
from servicekit import db as servicekit_db

safe_url = servicekit_db.safe_url


def create_engine(url: str, *, translate_errors: bool = False, **kwargs) -> sa.Engine:
    """Create an engine for ``url`` (see ``servicekit.db.create_engine``); nothing is connected.

    :param translate_errors: raise oslo.db's exceptions (the data API's engine).
    :raises nova.exception.DBConnectionError: bad URL or missing driver.
    """
    try:
        return servicekit_db.create_engine(url, translate_errors=translate_errors, **kwargs)
    except servicekit_db.EngineError as exc:
        raise exception.DBConnectionError(url=safe_url(url), reason=str(exc)) from exc


@contextlib.contextmanager
def connect(engine: sa.Engine) -> Iterator[sa.Connection]:
    """Open a connection on ``engine`` whose transactions include DDL (migrations).

    :raises nova.exception.DBConnectionError: the database cannot be reached.
    """
    try:
        connection = servicekit_db.connect(engine)
    except db_exc.DBConnectionError as exc:
        cause = exc.inner_exception
        while isinstance(cause, db_exc.DBError) and cause.inner_exception is not None:
            cause = cause.inner_exception
        reason = str(getattr(cause, "orig", None) or cause).strip().splitlines()[0]
        raise exception.DBConnectionError(url=safe_url(engine.url), reason=reason) from exc
    with connection:
        servicekit_db.begin_explicitly(connection)
        yield connection
