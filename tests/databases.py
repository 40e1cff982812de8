"""Throw-away databases on SQLite, PostgreSQL and MySQL for tests.

The PostgreSQL and MySQL servers are the private ones ``run_tests.sh``
starts; it exports their admin URLs as ``NOVA_TEST_POSTGRESQL_URL`` and
``NOVA_TEST_MYSQL_URL``. A test on a backend whose URL is missing is skipped,
unless ``NOVA_TEST_REQUIRE_SERVICES`` names it: then it fails, so CI cannot
pass with the real-database tests silently skipped.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import unittest
import uuid

import sqlalchemy as sa
from sqlalchemy.engine import make_url

SERVER_URL_VARIABLES = {
    "postgresql": "NOVA_TEST_POSTGRESQL_URL",
    "mysql": "NOVA_TEST_MYSQL_URL",
    "neutron": "NOVA_TEST_NEUTRON_URL",
    "rabbitmq": "NOVA_TEST_RABBIT_URL",
}
BACKENDS = ("sqlite", "postgresql", "mysql")


def required_services() -> set[str]:
    """Return the services the test run must not skip."""
    value = os.environ.get("NOVA_TEST_REQUIRE_SERVICES", "")
    return {name.strip() for name in value.split(",") if name.strip()}


def server_url(backend: str) -> str | None:
    """Return the admin URL of the test server for ``backend``, or None."""
    return os.environ.get(SERVER_URL_VARIABLES[backend])


def skip_or_fail(test: unittest.TestCase, backend: str) -> None:
    """Skip ``test`` because ``backend`` has no server, or fail if it is required."""
    variable = SERVER_URL_VARIABLES[backend]
    if backend in required_services():
        test.fail(f"{variable} is not set but {backend} is required (NOVA_TEST_REQUIRE_SERVICES)")
    test.skipTest(f"{variable} is not set; run ./run_tests.sh to start a {backend} server")


class Database:
    """One empty database, created on construction and dropped by ``drop``."""

    def __init__(self, backend: str, admin_url: str | None = None) -> None:
        self.backend = backend
        self._tmpdir: str | None = None
        if backend == "sqlite":
            self._tmpdir = tempfile.mkdtemp(prefix="nova-test-")
            self.url = f"sqlite:///{os.path.join(self._tmpdir, 'nova.sqlite')}"
            return
        assert admin_url is not None
        self._admin_url = make_url(admin_url)
        self.name = f"nova_test_{uuid.uuid4().hex[:12]}"
        self._execute_admin(f"CREATE DATABASE {self.name}")
        self.url = self._admin_url.set(database=self.name).render_as_string(hide_password=False)

    def _execute_admin(self, statement: str) -> None:
        engine = sa.create_engine(self._admin_url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.exec_driver_sql(statement)
        finally:
            engine.dispose()

    def drop(self) -> None:
        """Remove the database and everything in it."""
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
        elif self.backend == "postgresql":
            self._execute_admin(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")
        else:
            self._execute_admin(f"DROP DATABASE IF EXISTS {self.name}")


class DatabaseTestCase(unittest.TestCase):
    """A test case with a fresh, empty database on ``BACKEND`` in ``self.db_url``."""

    BACKEND = "sqlite"

    def setUp(self) -> None:
        super().setUp()
        admin_url = None
        if self.BACKEND != "sqlite":
            admin_url = server_url(self.BACKEND)
            if admin_url is None:
                skip_or_fail(self, self.BACKEND)
        database = Database(self.BACKEND, admin_url)
        self.addCleanup(database.drop)
        self.db_url = database.url


class SchemaTestCase(DatabaseTestCase):
    """A fresh database at the newest schema, used by the ``nova.db`` data API."""

    def setUp(self) -> None:
        super().setUp()
        # Imported here: this module is also used by tests that must not
        # load Nova's configuration.
        import nova.conf
        from nova.db import migration
        from nova.db import session as db_session

        migration.db_sync(url=self.db_url)
        nova.conf.CONF.set_override("connection", self.db_url, group="database")
        self.addCleanup(nova.conf.CONF.clear_override, "connection", group="database")
        db_session.dispose_engine()
        self.addCleanup(db_session.dispose_engine)


def neutron_url(test: unittest.TestCase) -> str:
    """Return the URL of the test Neutron server (``start_neutron``).

    Skips ``test`` when ``NOVA_TEST_NEUTRON_URL`` is not set, or fails it
    when ``NOVA_TEST_REQUIRE_SERVICES`` names ``neutron``.
    """
    url = server_url("neutron")
    if not url:
        skip_or_fail(test, "neutron")
    return url.rstrip("/")
