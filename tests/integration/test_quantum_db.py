"""Quantum's schema and data API on real PostgreSQL and MySQL (MariaDB)."""

from __future__ import annotations

from tests.fixtures import quantum_db_checks


class TestQuantumDatabasePostgreSQL(quantum_db_checks.QuantumDatabaseChecks):
    __test__ = True
    BACKEND = "postgresql"


class TestQuantumDatabaseMySQL(quantum_db_checks.QuantumDatabaseChecks):
    __test__ = True
    BACKEND = "mysql"
