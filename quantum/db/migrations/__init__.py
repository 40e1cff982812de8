"""Alembic migrations of Quantum's database (version table ``quantum_alembic_version``)."""
