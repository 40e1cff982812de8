"""Concurrent claims by two schedulers on real PostgreSQL and MySQL (MariaDB)."""

from __future__ import annotations

from tests.unit.scheduler import test_scheduler


class TestClaimsPostgreSQL(test_scheduler.SchedulerTestCase):
    BACKEND = "postgresql"


class TestClaimsMySQL(test_scheduler.SchedulerTestCase):
    BACKEND = "mysql"
