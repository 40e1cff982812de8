"""``nova-manage`` end to end on real PostgreSQL and MySQL (MariaDB).

``db`` on both; ``service``, ``host`` and ``server`` on PostgreSQL.
"""

from __future__ import annotations

from tests.functional import test_nova_manage
from tests.functional import test_nova_manage_ops


class TestNovaManagePostgreSQL(test_nova_manage.NovaManageChecks):
    __test__ = True
    BACKEND = "postgresql"


class TestNovaManageMySQL(test_nova_manage.NovaManageChecks):
    __test__ = True
    BACKEND = "mysql"


class TestNovaManageOpsPostgreSQL(test_nova_manage_ops.NovaManageOpsChecks):
    __test__ = True
    BACKEND = "postgresql"
