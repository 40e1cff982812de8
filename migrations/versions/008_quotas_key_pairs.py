"""Quotas and key pairs: per-project limits, the per-project quota lock, users' key pairs.

* ``quotas``: a project's own limit of a resource (``instances``, ``cores``,
  ...), one live row per (project, resource); a resource without a row has
  the ``[quota]`` default. Usage is never stored: it is counted from the
  tables (instances, key pairs), so it cannot drift.
* ``project_locks``: one row per project; a create that is checked against
  the project's quota locks it (``SELECT ... FOR UPDATE`` on PostgreSQL and
  MySQL), so the count and the insert of concurrent creates follow each
  other (SQLite's writers are serialized already).
* ``key_pairs``: a user's public keys (the private key of a generated pair
  is never stored), one live row per (user, name).
* ``instances.key_data``: the public key of the key pair a server was
  created with (its ``key_name`` came in revision 007).

Revision ID: 008
Revises: 007
"""

import sqlalchemy as sa
from alembic import op

from migrations import helpers

revision = "008"
down_revision = "007"
branch_labels = None
depends_on = None


def _soft_delete_columns():
    return [
        sa.Column("created_at", sa.DateTime),
        sa.Column("updated_at", sa.DateTime),
        sa.Column("deleted_at", sa.DateTime),
        sa.Column("deleted", sa.Integer, nullable=False, server_default="0"),
    ]


def upgrade() -> None:
    op.create_table(
        "quotas",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("project_id", sa.String(255), nullable=False),
        sa.Column("resource", sa.String(255), nullable=False),
        sa.Column("hard_limit", sa.Integer, nullable=False),
        *_soft_delete_columns(),
        sa.UniqueConstraint(
            "project_id", "resource", "deleted", name="uniq_quotas0project_id0resource0deleted"
        ),
    )
    op.create_table(
        "project_locks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("project_id", sa.String(255), nullable=False),
        *_soft_delete_columns(),
        sa.UniqueConstraint("project_id", "deleted", name="uniq_project_locks0project_id0deleted"),
    )
    op.create_table(
        "key_pairs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("fingerprint", sa.String(255), nullable=False),
        sa.Column("public_key", sa.Text, nullable=False),
        sa.Column("type", sa.String(10), nullable=False, server_default="ssh"),
        *_soft_delete_columns(),
        sa.UniqueConstraint(
            "user_id", "name", "deleted", name="uniq_key_pairs0user_id0name0deleted"
        ),
    )
    with op.batch_alter_table("instances") as batch:
        batch.add_column(sa.Column("key_data", sa.Text))


def check_downgrade(connection: sa.Connection) -> str | None:
    """Say why going below this revision would lose data, or return None."""
    reasons = []
    quotas = connection.execute(
        sa.text("SELECT COUNT(*) FROM quotas WHERE deleted = 0")
    ).scalar_one()
    if quotas:
        reasons.append(f"{quotas} project quota limit(s) are set")
    keys = connection.execute(
        sa.text("SELECT COUNT(*) FROM key_pairs WHERE deleted = 0")
    ).scalar_one()
    if keys:
        reasons.append(f"{keys} key pair(s) exist")
    return "; ".join(reasons) or None


def downgrade() -> None:
    helpers.refuse_downgrade_if(check_downgrade(op.get_bind()), down_revision)
    with op.batch_alter_table("instances") as batch:
        batch.drop_column("key_data")
    op.drop_table("key_pairs")
    op.drop_table("project_locks")
    op.drop_table("quotas")
