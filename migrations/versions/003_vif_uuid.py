"""Give every virtual interface a globally unique uuid, back-filled.

The uuid is the VIF's identity outside Nova: the API lists it, and an L2
service attaches it to a port as the interface-id.

Revision ID: 003
Revises: 002
"""

import sqlalchemy as sa
from alembic import op

revision = "003"
down_revision = "002"
branch_labels = None
depends_on = None

# A random (version 4) UUID computed inside the database, so that the
# back-fill is one statement however many rows there are.
_RANDOM_UUID_SQL = {
    "postgresql": "gen_random_uuid()::text",
    "mysql": "UUID()",
    "mariadb": "UUID()",
    "sqlite": (
        "lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || "
        "substr(lower(hex(randomblob(2))), 2) || '-' || "
        "substr('89ab', 1 + (abs(random()) % 4), 1) || "
        "substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)))"
    ),
}


def _backfill_uuids() -> None:
    bind = op.get_bind()
    expression = _RANDOM_UUID_SQL.get(bind.dialect.name)
    if expression is not None:
        op.execute(f"UPDATE virtual_interfaces SET uuid = {expression} WHERE uuid IS NULL")
        return
    import uuid

    ids = bind.execute(sa.text("SELECT id FROM virtual_interfaces WHERE uuid IS NULL")).scalars()
    bind.execute(
        sa.text("UPDATE virtual_interfaces SET uuid = :uuid WHERE id = :id"),
        [{"id": vif_id, "uuid": str(uuid.uuid4())} for vif_id in ids],
    )


def upgrade() -> None:
    with op.batch_alter_table("virtual_interfaces") as batch:
        batch.add_column(sa.Column("uuid", sa.String(36)))
    _backfill_uuids()
    with op.batch_alter_table("virtual_interfaces") as batch:
        batch.alter_column("uuid", existing_type=sa.String(36), nullable=False)
        batch.create_unique_constraint("uniq_virtual_interfaces0uuid", ["uuid"])


def downgrade() -> None:
    with op.batch_alter_table("virtual_interfaces") as batch:
        batch.drop_constraint("uniq_virtual_interfaces0uuid", type_="unique")
        batch.drop_column("uuid")
