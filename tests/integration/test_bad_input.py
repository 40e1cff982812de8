"""Bad input is a 4xx, not a 500, on PostgreSQL and MariaDB too (issue 14, item 6).

The adversarial run found ``%00`` in ids, names and markers, and user or
project ids longer than the columns, answered 500 on PostgreSQL (its text
cannot hold NUL; an over-long value is an error, where SQLite stores it).
These run the unit tests' cases of Nova's and Quantum's APIs on each server.
"""

from __future__ import annotations

from tests.fixtures import databases
from tests.unit.api.openstack import test_bad_input as nova_cases
from tests.unit.quantum import test_bad_input as quantum_cases


class TestNovaBadInputPostgreSQL(nova_cases.BadInputTestCase):
    BACKEND = "postgresql"


class TestNovaBadInputMySQL(nova_cases.BadInputTestCase):
    BACKEND = "mysql"


class TestQuantumBadInputPostgreSQL(quantum_cases.BadInputTestCase, databases.DatabaseTestCase):
    BACKEND = "postgresql"


class TestQuantumBadInputMySQL(quantum_cases.BadInputTestCase, databases.DatabaseTestCase):
    BACKEND = "mysql"
