"""``nova-manage db`` end to end on real PostgreSQL and MySQL (MariaDB)."""

from __future__ import annotations

from tests.functional import test_nova_manage


class TestNovaManagePostgreSQL(test_nova_manage.NovaManageChecks):
    __test__ = True
    BACKEND = "postgresql"


class TestNovaManageMySQL(test_nova_manage.NovaManageChecks):
    __test__ = True
    BACKEND = "mysql"
