"""Alembic migrations of Nova's database (run them with ``nova-manage db sync``)."""
