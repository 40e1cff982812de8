"""Alembic environment of Quantum's schema (``quantum.db.migration`` passes a connection)."""

from alembic import context

from quantum.db import migration

migration.run_environment(context)
