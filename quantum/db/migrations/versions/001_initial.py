"""Quantum v1.1 with port configuration: networks, ports, key/value configuration.

Revision ID: 001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "networks",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(255), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("plugin", sa.String(255), nullable=False),
        sa.Column("op_status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_networks_tenant_id", "networks", ["tenant_id"])
    op.create_table(
        "ports",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "network_id",
            sa.String(36),
            sa.ForeignKey("networks.id", name="fk_ports_network_id"),
            nullable=False,
        ),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("op_status", sa.String(16), nullable=False),
        sa.Column("interface_id", sa.String(255)),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("interface_id", name="uniq_ports0interface_id"),
    )
    op.create_index("ix_ports_network_id", "ports", ["network_id"])
    op.create_table(
        "network_configurations",
        sa.Column(
            "network_id",
            sa.String(36),
            sa.ForeignKey(
                "networks.id", name="fk_network_configurations_network_id", ondelete="CASCADE"
            ),
            primary_key=True,
        ),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("value", sa.String(1024), nullable=False),
    )
    op.create_table(
        "port_configurations",
        sa.Column(
            "port_id",
            sa.String(36),
            sa.ForeignKey("ports.id", name="fk_port_configurations_port_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("value", sa.String(1024), nullable=False),
    )


def downgrade() -> None:
    for table in ("port_configurations", "network_configurations", "ports", "networks"):
        op.drop_table(table)
