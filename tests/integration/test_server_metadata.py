"""Server metadata through the API on PostgreSQL and MySQL (MariaDB).

The unit tests (``tests/unit/api/openstack/test_server_routes.py``) run here
with real row locks: concurrent additions never pass ``[quota]
metadata_items``, keys are compared exactly.
"""

from __future__ import annotations

from tests.unit.api.openstack import test_server_routes


class TestServerMetadataPostgreSQL(test_server_routes.ServerMetadataTestCase):
    BACKEND = "postgresql"


class TestServerMetadataMySQL(test_server_routes.ServerMetadataTestCase):
    BACKEND = "mysql"
