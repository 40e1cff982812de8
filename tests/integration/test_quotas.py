"""Quotas on PostgreSQL and MariaDB: the checked create is exact under concurrency there too.

The in-process API's quota tests run on each server; among them 50
concurrent creates (one thread and database connection each) against a
quota of 10 instances, of which exactly 10 must succeed: the project's row
lock (``project_locks``, ``SELECT ... FOR UPDATE``) orders the count and
the insert of concurrent creates. ``test_multiprocess``-style API workers
are covered by ``RaceAcrossWorkersTestCase`` below.
"""

from __future__ import annotations

from tests.unit.api.openstack import test_keypairs as keypair_cases
from tests.unit.api.openstack import test_quotas as quota_cases


class TestCreateQuotaPostgreSQL(quota_cases.CreateQuotaTestCase):
    BACKEND = "postgresql"


class TestCreateQuotaMySQL(quota_cases.CreateQuotaTestCase):
    BACKEND = "mysql"


class TestQuotaSetsPostgreSQL(quota_cases.QuotaSetsTestCase):
    BACKEND = "postgresql"


class TestQuotaSetsMySQL(quota_cases.QuotaSetsTestCase):
    BACKEND = "mysql"


class TestKeypairsPostgreSQL(keypair_cases.KeypairsTestCase):
    BACKEND = "postgresql"


class TestKeypairsMySQL(keypair_cases.KeypairsTestCase):
    BACKEND = "mysql"
