"""Alembic environment: how the ``alembic`` command and ``nova-manage`` connect.

``nova-manage db sync`` hands over an open connection in
``config.attributes["connection"]``; the plain ``alembic`` command builds one
from ``-x nova-config=FILE`` (or the default ``[database] connection``).
"""

from alembic import context

from nova.db import migration

migration.run_environment(context)
