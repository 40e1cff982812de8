"""Network refactoring (L2): virtual_interfaces.network_id becomes nullable.

A VIF may now belong to an external L2 service (Quantum) instead of a Nova
network. The foreign key to ``networks`` stays for the VIFs that have one.

Revision ID: 004
Revises: 003
"""

import sqlalchemy as sa
from alembic import op

from migrations import helpers

revision = "004"
down_revision = "003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("virtual_interfaces") as batch:
        batch.alter_column(
            "network_id", existing_type=sa.Integer, existing_nullable=False, nullable=True
        )


def check_downgrade(connection: sa.Connection) -> str | None:
    """Say why going below this revision would lose data, or return None."""
    orphans = connection.execute(
        sa.text("SELECT COUNT(*) FROM virtual_interfaces WHERE network_id IS NULL")
    ).scalar_one()
    if orphans:
        return (
            f"{orphans} virtual interface(s) have no Nova network (network_id is NULL): "
            "they belong to an external network service; delete them first"
        )
    return None


def downgrade() -> None:
    helpers.refuse_downgrade_if(check_downgrade(op.get_bind()), down_revision)
    with op.batch_alter_table("virtual_interfaces") as batch:
        batch.alter_column(
            "network_id", existing_type=sa.Integer, existing_nullable=True, nullable=False
        )
