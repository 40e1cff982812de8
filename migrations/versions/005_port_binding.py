"""Port binding: record the external port and network a VIF is bound to.

``port_id`` is the Quantum/Neutron port (unique among live VIFs),
``network_uuid`` its network, and ``preserve_on_delete`` marks ports the user
brought, which are detached rather than deleted with the instance.

Revision ID: 005
Revises: 004
"""

import sqlalchemy as sa
from alembic import op

from migrations import helpers

revision = "005"
down_revision = "004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("virtual_interfaces") as batch:
        batch.add_column(sa.Column("port_id", sa.String(36)))
        batch.add_column(sa.Column("network_uuid", sa.String(36)))
        batch.add_column(
            sa.Column("preserve_on_delete", sa.Boolean, nullable=False, server_default=sa.false())
        )
        batch.create_unique_constraint(
            "uniq_virtual_interfaces0port_id0deleted", ["port_id", "deleted"]
        )


def check_downgrade(connection: sa.Connection) -> str | None:
    """Say why going below this revision would lose data, or return None."""
    bound = connection.execute(
        sa.text(
            "SELECT COUNT(*) FROM virtual_interfaces "
            "WHERE port_id IS NOT NULL OR network_uuid IS NOT NULL"
        )
    ).scalar_one()
    if bound:
        return f"{bound} virtual interface(s) are bound to external ports"
    return None


def downgrade() -> None:
    helpers.refuse_downgrade_if(check_downgrade(op.get_bind()), down_revision)
    with op.batch_alter_table("virtual_interfaces") as batch:
        batch.drop_constraint("uniq_virtual_interfaces0port_id0deleted", type_="unique")
        batch.drop_column("preserve_on_delete")
        batch.drop_column("network_uuid")
        batch.drop_column("port_id")
