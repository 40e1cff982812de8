"""A VIF's uuid is unique among live VIFs only, as Nova's soft-deleted tables are.

With the neutron backend a VIF's uuid is its port's id, so a port the user
kept when a server was deleted gives the next server's VIF the uuid of the
deleted server's (soft-deleted) row. The unique constraint on ``uuid``
becomes one on ``(uuid, deleted)``: a deleted row has ``deleted`` = its id,
so only live rows can clash.

Revision ID: 006
Revises: 005
"""

import sqlalchemy as sa
from alembic import op

from migrations import helpers

revision = "006"
down_revision = "005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("virtual_interfaces") as batch:
        batch.drop_constraint("uniq_virtual_interfaces0uuid", type_="unique")
        batch.create_unique_constraint("uniq_virtual_interfaces0uuid0deleted", ["uuid", "deleted"])


def check_downgrade(connection: sa.Connection) -> str | None:
    """Say why going below this revision would lose data, or return None."""
    shared = connection.execute(
        sa.text(
            "SELECT COUNT(*) FROM (SELECT uuid FROM virtual_interfaces "
            "GROUP BY uuid HAVING COUNT(*) > 1) shared"
        )
    ).scalar_one()
    if shared:
        return f"{shared} virtual interface uuid(s) are used by more than one row"
    return None


def downgrade() -> None:
    helpers.refuse_downgrade_if(check_downgrade(op.get_bind()), down_revision)
    with op.batch_alter_table("virtual_interfaces") as batch:
        batch.drop_constraint("uniq_virtual_interfaces0uuid0deleted", type_="unique")
        batch.create_unique_constraint("uniq_virtual_interfaces0uuid", ["uuid"])
