"""Quantum's database: models, data API and its own Alembic migrations."""
