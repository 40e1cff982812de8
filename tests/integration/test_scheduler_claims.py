"""Concurrent claims by two schedulers, and lost launches, on PostgreSQL and MySQL (MariaDB)."""

from __future__ import annotations

from tests.unit.scheduler import test_scheduler


class TestClaimsPostgreSQL(test_scheduler.SchedulerTestCase):
    BACKEND = "postgresql"


class TestClaimsMySQL(test_scheduler.SchedulerTestCase):
    BACKEND = "mysql"


class TestSweepPostgreSQL(test_scheduler.SweepTestCase):
    BACKEND = "postgresql"


class TestSweepMySQL(test_scheduler.SweepTestCase):
    BACKEND = "mysql"
