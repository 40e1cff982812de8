"""The database API on real PostgreSQL and MySQL (MariaDB)."""

from __future__ import annotations

from tests.unit.db import test_api
from tests.unit.db import test_session
from tests.unit.db import test_views


class TestVirtualInterfacesPostgreSQL(test_api.VirtualInterfaceTestCase):
    BACKEND = "postgresql"


class TestVirtualInterfacesMySQL(test_api.VirtualInterfaceTestCase):
    BACKEND = "mysql"


class TestViewsPostgreSQL(test_views.ViewsAPITestCase):
    BACKEND = "postgresql"


class TestViewsMySQL(test_views.ViewsAPITestCase):
    BACKEND = "mysql"


class TestSessionPostgreSQL(test_session.SessionTestCase):
    BACKEND = "postgresql"


class TestSessionMySQL(test_session.SessionTestCase):
    BACKEND = "mysql"


class TestInstancesPostgreSQL(test_api.InstanceTestCase):
    BACKEND = "postgresql"


class TestInstancesMySQL(test_api.InstanceTestCase):
    BACKEND = "mysql"
