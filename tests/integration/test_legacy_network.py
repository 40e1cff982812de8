"""The legacy network backend on real PostgreSQL and MySQL (MariaDB).

The database-level allocation tests, including the 8-thread one that proves
no address is handed out twice, and ``nova-manage network`` end to end.
"""

from __future__ import annotations

from tests.functional import test_nova_manage_network
from tests.unit.network import test_legacy


class TestFixedIpAllocationPostgreSQL(test_legacy.FixedIpAllocationTestCase):
    BACKEND = "postgresql"


class TestFixedIpAllocationMySQL(test_legacy.FixedIpAllocationTestCase):
    BACKEND = "mysql"


class TestNovaManageNetworkPostgreSQL(test_nova_manage_network.NovaManageNetworkChecks):
    __test__ = True
    BACKEND = "postgresql"


class TestNovaManageNetworkMySQL(test_nova_manage_network.NovaManageNetworkChecks):
    __test__ = True
    BACKEND = "mysql"
