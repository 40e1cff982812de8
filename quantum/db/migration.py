"""Create or upgrade Quantum's schema (run by the server on start)."""

from __future__ import annotations

import logging
import os

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext

from servicekit import db as servicekit_db

LOG = logging.getLogger(__name__)

MIGRATIONS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "migrations")
VERSION_TABLE = "quantum_alembic_version"


def run_environment(context) -> None:
    """Run the requested migrations on the connection in ``config.attributes``."""
    connection = context.config.attributes["connection"]
    options = {"transactional_ddl": True} if connection.dialect.name == "sqlite" else {}
    context.configure(
        connection=connection,
        version_table=VERSION_TABLE,
        render_as_batch=True,
        transaction_per_migration=True,
        **options,
    )
    with context.begin_transaction():
        context.run_migrations()


def current_revision(connection: sa.Connection) -> str | None:
    """Return the schema's revision id, or None for an empty database."""
    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


def upgrade(engine: sa.Engine) -> None:
    """Bring the database behind ``engine`` to the newest revision."""
    config = Config()
    config.set_main_option("script_location", MIGRATIONS_DIR)
    with engine.connect() as connection:
        servicekit_db.begin_explicitly(connection)  # transactional DDL on SQLite
        before = current_revision(connection)
        connection.commit()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        connection.commit()
        after = current_revision(connection)
    if before != after:
        LOG.info("Quantum database upgraded from %s to %s", before or "empty", after)
