"""The database API on real PostgreSQL and MySQL (MariaDB)."""

from __future__ import annotations

from tests.unit.db import test_api


class TestVirtualInterfacesPostgreSQL(test_api.VirtualInterfaceTestCase):
    BACKEND = "postgresql"


class TestVirtualInterfacesMySQL(test_api.VirtualInterfaceTestCase):
    BACKEND = "mysql"
