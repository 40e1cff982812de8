"""Quantum's schema and data API on SQLite."""

from __future__ import annotations

from tests import quantum_db_checks


class TestQuantumDatabaseSQLite(quantum_db_checks.QuantumDatabaseChecks):
    __test__ = True
    BACKEND = "sqlite"
