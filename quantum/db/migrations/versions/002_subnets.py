"""Subnets and fixed IPs: a network's subnet columns, a port's fixed IP unique per network.

Revision ID: 002
Revises: 001
"""

import sqlalchemy as sa
from alembic import op

revision = "002"
down_revision = "001"
branch_labels = None
depends_on = None

_SUBNET_COLUMNS = ("subnet_id", "cidr", "gateway_ip", "enable_dhcp", "dhcp_server")


def upgrade() -> None:
    # Every change is one a SQLite ALTER TABLE makes in place (recreate="never"):
    # rebuilding ``networks`` or ``ports`` would trip the foreign keys
    # pointing at them.
    with op.batch_alter_table("networks", recreate="never") as batch:
        batch.add_column(sa.Column("subnet_id", sa.String(36)))
        batch.add_column(sa.Column("cidr", sa.String(64)))
        batch.add_column(sa.Column("gateway_ip", sa.String(64)))
        batch.add_column(sa.Column("enable_dhcp", sa.Boolean))
        batch.add_column(sa.Column("dhcp_server", sa.String(64)))
    with op.batch_alter_table("ports", recreate="never") as batch:
        batch.add_column(sa.Column("fixed_ip", sa.String(64)))
    op.create_index(
        "uniq_ports0network_id0fixed_ip", "ports", ["network_id", "fixed_ip"], unique=True
    )


def downgrade() -> None:
    op.drop_index("uniq_ports0network_id0fixed_ip", table_name="ports")
    with op.batch_alter_table("ports", recreate="never") as batch:
        batch.drop_column("fixed_ip")
    with op.batch_alter_table("networks", recreate="never") as batch:
        for column in reversed(_SUBNET_COLUMNS):
            batch.drop_column(column)
