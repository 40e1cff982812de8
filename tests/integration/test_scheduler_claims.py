"""Claims, their release and the usage audit, and lost launches, on PostgreSQL and MySQL (MariaDB).

The claim lifecycle (``tests/unit/db/test_claims.py``) runs here with real
row locks: concurrent endings of one claim, audits among claims and releases.
"""

from __future__ import annotations

from tests.unit.db import test_claims
from tests.unit.scheduler import test_scheduler


class TestClaimsPostgreSQL(test_scheduler.SchedulerTestCase):
    BACKEND = "postgresql"


class TestClaimsMySQL(test_scheduler.SchedulerTestCase):
    BACKEND = "mysql"


class TestSweepPostgreSQL(test_scheduler.SweepTestCase):
    BACKEND = "postgresql"


class TestSweepMySQL(test_scheduler.SweepTestCase):
    BACKEND = "mysql"


class TestClaimLifecyclePostgreSQL(test_claims.ClaimsTestCase):
    BACKEND = "postgresql"


class TestClaimLifecycleMySQL(test_claims.ClaimsTestCase):
    BACKEND = "mysql"
