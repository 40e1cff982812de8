"""Migrations on real PostgreSQL and MySQL (MariaDB) servers."""

from __future__ import annotations

from tests.fixtures import migration_checks


class TestMigrationsPostgreSQL(migration_checks.MigrationChecks):
    __test__ = True
    BACKEND = "postgresql"


class TestMigrationsMySQL(migration_checks.MigrationChecks):
    __test__ = True
    BACKEND = "mysql"
