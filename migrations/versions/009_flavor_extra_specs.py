"""Flavor extra specs, flavors' rxtx_factor, what a hypervisor reports about itself.

* ``flavor_extra_specs``: the key/value pairs of a flavor (Nova's
  ``os-extra_specs``), one row per key, unique per live flavor and key.
* ``flavors.rxtx_factor``: the factor a created flavor states (Nova's
  flavor-manage accepts it; 1.0 for every existing flavor).
* ``compute_nodes.host_ip``, ``hypervisor_version``, ``cpu_info``: reported by
  the compute service with its capacity, shown by ``os-hypervisors``.

Revision ID: 009
Revises: 006
"""

import sqlalchemy as sa
from alembic import op

from migrations import helpers

revision = "009"
down_revision = "008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "flavor_extra_specs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "flavor_id",
            sa.Integer,
            sa.ForeignKey("flavors.id", name="fk_flavor_extra_specs_flavor_id"),
            nullable=False,
        ),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("value", sa.String(255)),
        sa.Column("created_at", sa.DateTime),
        sa.Column("updated_at", sa.DateTime),
        sa.Column("deleted_at", sa.DateTime),
        sa.Column("deleted", sa.Integer, nullable=False, server_default="0"),
        sa.UniqueConstraint(
            "flavor_id", "key", "deleted", name="uniq_flavor_extra_specs0flavor_id0key0deleted"
        ),
    )
    with op.batch_alter_table("flavors") as batch:
        batch.add_column(sa.Column("rxtx_factor", sa.Float, nullable=False, server_default="1.0"))
    with op.batch_alter_table("compute_nodes") as batch:
        batch.add_column(sa.Column("host_ip", sa.String(39)))
        batch.add_column(sa.Column("hypervisor_version", sa.Integer))
        batch.add_column(sa.Column("cpu_info", sa.Text))


def check_downgrade(connection: sa.Connection) -> str | None:
    """Say why going below this revision would lose data, or return None."""
    specs = connection.execute(
        sa.text("SELECT COUNT(*) FROM flavor_extra_specs WHERE deleted = 0")
    ).scalar_one()
    if specs:
        return f"{specs} flavor extra spec(s) exist"
    factors = connection.execute(
        sa.text("SELECT COUNT(*) FROM flavors WHERE rxtx_factor != 1.0")
    ).scalar_one()
    if factors:
        return f"{factors} flavor(s) have an rxtx_factor other than 1.0"
    return None


def downgrade() -> None:
    helpers.refuse_downgrade_if(check_downgrade(op.get_bind()), down_revision)
    with op.batch_alter_table("compute_nodes") as batch:
        batch.drop_column("cpu_info")
        batch.drop_column("hypervisor_version")
        batch.drop_column("host_ip")
    with op.batch_alter_table("flavors") as batch:
        batch.drop_column("rxtx_factor")
    op.drop_table("flavor_extra_specs")
