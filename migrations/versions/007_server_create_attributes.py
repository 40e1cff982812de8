"""What a server is created with, as Nova 2.1's create body gives it.

``key_name`` (the key pair named on create), ``user_data`` (base64, up to
64 KiB), ``access_ip_v4``/``access_ip_v6``, ``config_drive`` ("True" or
empty, as Nova shows it), ``auto_disk_config`` (``OS-DCF:diskConfig``) and
``security_groups`` (the names asked for, one a line). All nullable: rows
made before this revision show Nova's defaults.

Revision ID: 007
Revises: 006
"""

import sqlalchemy as sa
from alembic import op

from migrations import helpers

revision = "007"
down_revision = "006"
branch_labels = None
depends_on = None

_COLUMNS = (
    ("key_name", sa.String(255)),
    ("user_data", sa.Text),
    ("access_ip_v4", sa.String(39)),
    ("access_ip_v6", sa.String(39)),
    ("config_drive", sa.String(255)),
    ("auto_disk_config", sa.Boolean),
    ("security_groups", sa.Text),
)


def upgrade() -> None:
    with op.batch_alter_table("instances") as batch:
        for name, type_ in _COLUMNS:
            batch.add_column(sa.Column(name, type_))


def check_downgrade(connection: sa.Connection) -> str | None:
    """Say why going below this revision would lose data, or return None."""
    kept = connection.execute(
        sa.text(
            "SELECT COUNT(*) FROM instances WHERE deleted = 0 AND ("
            + " OR ".join(
                f"{name} IS NOT NULL" for name, _ in _COLUMNS if name != "auto_disk_config"
            )
            + ")"
        )
    ).scalar_one()
    if kept:
        return (
            f"{kept} live instance(s) have a key pair, user data, access IPs, "
            "a config drive or security groups"
        )
    return None


def downgrade() -> None:
    helpers.refuse_downgrade_if(check_downgrade(op.get_bind()), down_revision)
    with op.batch_alter_table("instances") as batch:
        for name, _ in reversed(_COLUMNS):
            batch.drop_column(name)
