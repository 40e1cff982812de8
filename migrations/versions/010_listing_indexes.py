"""Indexes in the order of the server listings, so a page reads only its own rows.

Nova lists servers newest first, ``(created_at, id)`` descending, and pages
after a marker by those keys (keyset paging). With an index on the filter
columns followed by those keys, a page is a short range scan of the index
in order: no table scan, no sort, the same cost at 1,000 or 100,000
instances (``bench/scale.py``).

* ``instances (project_id, deleted, created_at, id)``: a project's listing;
  it replaces ``(project_id, deleted)``, its prefix.
* ``instances (deleted, created_at, id)``: an admin's listing of every
  project (``all_tenants``).

Revision ID: 010
Revises: 009
"""

from alembic import op

revision = "010"
down_revision = "009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_instances_project_id_deleted_created_at_id",
        "instances",
        ["project_id", "deleted", "created_at", "id"],
    )
    op.drop_index("ix_instances_project_id_deleted", table_name="instances")
    op.create_index(
        "ix_instances_deleted_created_at_id", "instances", ["deleted", "created_at", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_instances_deleted_created_at_id", table_name="instances")
    op.create_index("ix_instances_project_id_deleted", "instances", ["project_id", "deleted"])
    op.drop_index("ix_instances_project_id_deleted_created_at_id", table_name="instances")
