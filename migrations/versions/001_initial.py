"""Initial schema: instances, flavors, services, compute nodes, nova-network.

The Nova of early 2011: one NIC per instance, its MAC address stored on the
instance row, fixed IPs of legacy networks. Seeds the default flavors.

Revision ID: 001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "001"
down_revision = None
branch_labels = None
depends_on = None

DEFAULT_FLAVORS = [
    # flavorid, name, memory_mb, vcpus, root_gb
    ("1", "m1.tiny", 512, 1, 1),
    ("2", "m1.small", 2048, 1, 20),
    ("3", "m1.medium", 4096, 2, 40),
    ("4", "m1.large", 8192, 4, 80),
    ("5", "m1.xlarge", 16384, 8, 160),
]


def _soft_delete_columns():
    return [
        sa.Column("created_at", sa.DateTime),
        sa.Column("updated_at", sa.DateTime),
        sa.Column("deleted_at", sa.DateTime),
        sa.Column("deleted", sa.Integer, nullable=False, server_default="0"),
    ]


def upgrade() -> None:
    flavors = op.create_table(
        "flavors",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("flavorid", sa.String(255), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("memory_mb", sa.Integer, nullable=False),
        sa.Column("vcpus", sa.Integer, nullable=False),
        sa.Column("root_gb", sa.Integer, nullable=False),
        sa.Column("ephemeral_gb", sa.Integer, nullable=False, server_default="0"),
        sa.Column("swap", sa.Integer, nullable=False, server_default="0"),
        sa.Column("is_public", sa.Boolean, nullable=False),
        sa.Column("disabled", sa.Boolean, nullable=False),
        *_soft_delete_columns(),
        sa.UniqueConstraint("flavorid", "deleted", name="uniq_flavors0flavorid0deleted"),
        sa.UniqueConstraint("name", "deleted", name="uniq_flavors0name0deleted"),
    )

    op.create_table(
        "instances",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("uuid", sa.String(36), nullable=False),
        sa.Column("project_id", sa.String(255)),
        sa.Column("user_id", sa.String(255)),
        sa.Column("display_name", sa.String(255)),
        sa.Column(
            "flavor_id", sa.Integer, sa.ForeignKey("flavors.id", name="fk_instances_flavor_id")
        ),
        sa.Column("memory_mb", sa.Integer),
        sa.Column("vcpus", sa.Integer),
        sa.Column("root_gb", sa.Integer),
        sa.Column("image_ref", sa.String(255)),
        sa.Column("vm_state", sa.String(255)),
        sa.Column("task_state", sa.String(255)),
        sa.Column("host", sa.String(255)),
        sa.Column("availability_zone", sa.String(255)),
        sa.Column("reservation_id", sa.String(255)),
        sa.Column("launch_index", sa.Integer),
        sa.Column("launched_at", sa.DateTime),
        sa.Column("terminated_at", sa.DateTime),
        # One NIC per instance; multi-NIC (002) moves it to virtual_interfaces.
        sa.Column("mac_address", sa.String(255)),
        *_soft_delete_columns(),
        sa.UniqueConstraint("uuid", name="uniq_instances0uuid"),
    )
    op.create_index("ix_instances_project_id_deleted", "instances", ["project_id", "deleted"])
    op.create_index("ix_instances_host_deleted", "instances", ["host", "deleted"])
    op.create_index("ix_instances_flavor_id", "instances", ["flavor_id"])

    op.create_table(
        "instance_metadata",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "instance_id",
            sa.Integer,
            sa.ForeignKey("instances.id", name="fk_instance_metadata_instance_id"),
            nullable=False,
        ),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("value", sa.String(255)),
        *_soft_delete_columns(),
    )
    op.create_index(
        "ix_instance_metadata_instance_id_deleted", "instance_metadata", ["instance_id", "deleted"]
    )

    op.create_table(
        "instance_faults",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "instance_id",
            sa.Integer,
            sa.ForeignKey("instances.id", name="fk_instance_faults_instance_id"),
            nullable=False,
        ),
        sa.Column("code", sa.Integer, nullable=False),
        sa.Column("message", sa.String(255)),
        sa.Column("details", sa.Text),
        sa.Column("host", sa.String(255)),
        *_soft_delete_columns(),
    )
    op.create_index(
        "ix_instance_faults_instance_id_deleted", "instance_faults", ["instance_id", "deleted"]
    )

    op.create_table(
        "services",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("binary", sa.String(255), nullable=False),
        sa.Column("topic", sa.String(255)),
        sa.Column("report_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("disabled", sa.Boolean, nullable=False),
        sa.Column("disabled_reason", sa.String(255)),
        sa.Column("availability_zone", sa.String(255)),
        *_soft_delete_columns(),
        sa.UniqueConstraint("host", "binary", "deleted", name="uniq_services0host0binary0deleted"),
    )

    op.create_table(
        "compute_nodes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "service_id",
            sa.Integer,
            sa.ForeignKey("services.id", name="fk_compute_nodes_service_id"),
        ),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("hypervisor_type", sa.String(255)),
        sa.Column("vcpus", sa.Integer, nullable=False),
        sa.Column("memory_mb", sa.Integer, nullable=False),
        sa.Column("local_gb", sa.Integer, nullable=False),
        sa.Column("vcpus_used", sa.Integer, nullable=False, server_default="0"),
        sa.Column("memory_mb_used", sa.Integer, nullable=False, server_default="0"),
        sa.Column("local_gb_used", sa.Integer, nullable=False, server_default="0"),
        sa.Column("running_vms", sa.Integer, nullable=False, server_default="0"),
        *_soft_delete_columns(),
        sa.UniqueConstraint("host", "deleted", name="uniq_compute_nodes0host0deleted"),
    )
    op.create_index("ix_compute_nodes_service_id", "compute_nodes", ["service_id"])

    op.create_table(
        "networks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("uuid", sa.String(36), nullable=False),
        sa.Column("label", sa.String(255)),
        sa.Column("cidr", sa.String(43)),
        sa.Column("netmask", sa.String(39)),
        sa.Column("gateway", sa.String(39)),
        sa.Column("broadcast", sa.String(39)),
        sa.Column("dns1", sa.String(39)),
        sa.Column("dns2", sa.String(39)),
        sa.Column("dhcp_start", sa.String(39)),
        sa.Column("bridge", sa.String(255)),
        sa.Column("bridge_interface", sa.String(255)),
        sa.Column("vlan", sa.Integer),
        sa.Column("multi_host", sa.Boolean, nullable=False),
        sa.Column("project_id", sa.String(255)),
        sa.Column("host", sa.String(255)),
        *_soft_delete_columns(),
        sa.UniqueConstraint("uuid", name="uniq_networks0uuid"),
        sa.UniqueConstraint("vlan", "deleted", name="uniq_networks0vlan0deleted"),
    )

    op.create_table(
        "fixed_ips",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("address", sa.String(39), nullable=False),
        sa.Column(
            "network_id",
            sa.Integer,
            sa.ForeignKey("networks.id", name="fk_fixed_ips_network_id"),
        ),
        sa.Column(
            "instance_id",
            sa.Integer,
            sa.ForeignKey("instances.id", name="fk_fixed_ips_instance_id"),
        ),
        sa.Column("allocated", sa.Boolean, nullable=False),
        sa.Column("leased", sa.Boolean, nullable=False),
        sa.Column("reserved", sa.Boolean, nullable=False),
        sa.Column("host", sa.String(255)),
        *_soft_delete_columns(),
        sa.UniqueConstraint("address", "deleted", name="uniq_fixed_ips0address0deleted"),
    )
    op.create_index("ix_fixed_ips_network_id", "fixed_ips", ["network_id"])
    op.create_index("ix_fixed_ips_instance_id", "fixed_ips", ["instance_id"])

    op.bulk_insert(
        flavors,
        [
            {
                "flavorid": flavorid,
                "name": name,
                "memory_mb": memory_mb,
                "vcpus": vcpus,
                "root_gb": root_gb,
                "ephemeral_gb": 0,
                "swap": 0,
                "is_public": True,
                "disabled": False,
                "deleted": 0,
            }
            for flavorid, name, memory_mb, vcpus, root_gb in DEFAULT_FLAVORS
        ],
    )


def downgrade() -> None:
    for table in (
        "fixed_ips",
        "networks",
        "compute_nodes",
        "services",
        "instance_faults",
        "instance_metadata",
        "instances",
        "flavors",
    ):
        op.drop_table(table)
