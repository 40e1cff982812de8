"""Alembic environment: how the ``alembic`` command and ``nova-manage`` connect.

``nova-manage db sync`` hands over an open connection in
``config.attributes["connection"]`` and ``configure_logger = False`` (oslo.log
is set up already); the plain ``alembic`` command builds a connection from
``-x nova-config=FILE`` (or the default ``[database] connection``) and logs
as ``alembic.ini`` says.
"""

from logging.config import fileConfig

from alembic import context

from nova.db import migration

if context.config.attributes.get("configure_logger", True) and context.config.config_file_name:
    fileConfig(context.config.config_file_name, disable_existing_loggers=False)

migration.run_environment(context)
