"""Multi-NIC: add virtual_interfaces, one row per NIC of an instance.

Moves ``instances.mac_address`` into the new table (one VIF on the network of
the instance's first fixed IP) and links fixed IPs to their VIF. A VIF always
belongs to a Nova network here: ``network_id`` is NOT NULL.

Revision ID: 002
Revises: 001
"""

import sqlalchemy as sa
from alembic import op

from migrations import helpers

revision = "002"
down_revision = "001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "virtual_interfaces",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("address", sa.String(255), nullable=False),
        sa.Column(
            "network_id",
            sa.Integer,
            sa.ForeignKey("networks.id", name="fk_virtual_interfaces_network_id"),
            nullable=False,
        ),
        sa.Column(
            "instance_id",
            sa.Integer,
            sa.ForeignKey("instances.id", name="fk_virtual_interfaces_instance_id"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime),
        sa.Column("updated_at", sa.DateTime),
        sa.Column("deleted_at", sa.DateTime),
        sa.Column("deleted", sa.Integer, nullable=False, server_default="0"),
        sa.UniqueConstraint("address", "deleted", name="uniq_virtual_interfaces0address0deleted"),
    )
    op.create_index("ix_virtual_interfaces_instance_id", "virtual_interfaces", ["instance_id"])
    op.create_index("ix_virtual_interfaces_network_id", "virtual_interfaces", ["network_id"])

    with op.batch_alter_table("fixed_ips") as batch:
        batch.add_column(sa.Column("virtual_interface_id", sa.Integer))
        batch.create_foreign_key(
            "fk_fixed_ips_virtual_interface_id",
            "virtual_interfaces",
            ["virtual_interface_id"],
            ["id"],
        )
        batch.create_index("ix_fixed_ips_virtual_interface_id", ["virtual_interface_id"])

    # Each instance's MAC becomes its VIF, on the network of its first fixed
    # IP. A deleted instance's VIF is deleted too, marked with the instance id
    # so that (address, deleted) stays unique.
    op.execute(
        """
        INSERT INTO virtual_interfaces
            (created_at, deleted_at, deleted, address, network_id, instance_id)
        SELECT i.created_at, i.deleted_at,
               CASE WHEN i.deleted = 0 THEN 0 ELSE i.id END,
               i.mac_address, f.network_id, i.id
        FROM instances i JOIN fixed_ips f ON f.instance_id = i.id
        WHERE i.mac_address IS NOT NULL
          AND f.id = (SELECT MIN(f2.id) FROM fixed_ips f2
                      WHERE f2.instance_id = i.id AND f2.network_id IS NOT NULL)
        """
    )
    op.execute(
        """
        UPDATE fixed_ips SET virtual_interface_id =
            (SELECT v.id FROM virtual_interfaces v
             WHERE v.instance_id = fixed_ips.instance_id)
        WHERE instance_id IS NOT NULL
        """
    )

    with op.batch_alter_table("instances") as batch:
        batch.drop_column("mac_address")


def check_downgrade(connection: sa.Connection) -> str | None:
    """Say why going below this revision would lose data, or return None."""
    crowded = connection.execute(
        sa.text(
            "SELECT COUNT(*) FROM (SELECT instance_id FROM virtual_interfaces "
            "WHERE deleted = 0 GROUP BY instance_id HAVING COUNT(*) > 1) AS multi"
        )
    ).scalar_one()
    if crowded:
        return (
            f"{crowded} instance(s) have more than one virtual interface; "
            "before multi-NIC an instance had one MAC address"
        )
    return None


def downgrade() -> None:
    helpers.refuse_downgrade_if(check_downgrade(op.get_bind()), down_revision)

    with op.batch_alter_table("instances") as batch:
        batch.add_column(sa.Column("mac_address", sa.String(255)))
    op.execute(
        """
        UPDATE instances SET mac_address =
            (SELECT MIN(v.address) FROM virtual_interfaces v
             WHERE v.instance_id = instances.id AND v.deleted = 0)
        """
    )

    with op.batch_alter_table("fixed_ips") as batch:
        batch.drop_constraint("fk_fixed_ips_virtual_interface_id", type_="foreignkey")
        batch.drop_index("ix_fixed_ips_virtual_interface_id")
        batch.drop_column("virtual_interface_id")

    op.drop_table("virtual_interfaces")
