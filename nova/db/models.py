"""SQLAlchemy models of Nova's database (the schema at the newest revision).

The migrations in ``migrations/versions`` describe their own tables and never
import this module; a test checks that the migrated schema equals these
models on SQLite, PostgreSQL and MySQL.

Every table soft-deletes: ``deleted`` is 0 for a live row and the row's id
once deleted, so unique constraints that include ``deleted`` only bind live
rows.
"""

from __future__ import annotations

import datetime

from sqlalchemy import Boolean
from sqlalchemy import DateTime
from sqlalchemy import Float
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import Integer
from sqlalchemy import MetaData
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy import false
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uniq_%(table_name)s0%(column_0N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s",
}


def utcnow() -> datetime.datetime:
    """Return the current UTC time without tzinfo, as stored in the database."""
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


def _counter() -> Mapped[int]:
    """Return a NOT NULL integer column that starts at 0."""
    return mapped_column(Integer, nullable=False, default=0, server_default="0")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class SoftDeleteMixin:
    created_at: Mapped[datetime.datetime | None] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime.datetime | None] = mapped_column(DateTime, onupdate=utcnow)
    deleted_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    deleted: Mapped[int] = _counter()  # 0 while live, then the row id


class Flavor(SoftDeleteMixin, Base):
    __tablename__ = "flavors"
    __table_args__ = (
        UniqueConstraint("flavorid", "deleted", name="uniq_flavors0flavorid0deleted"),
        UniqueConstraint("name", "deleted", name="uniq_flavors0name0deleted"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    flavorid: Mapped[str] = mapped_column(String(255), nullable=False)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    memory_mb: Mapped[int] = mapped_column(Integer, nullable=False)
    vcpus: Mapped[int] = mapped_column(Integer, nullable=False)
    root_gb: Mapped[int] = mapped_column(Integer, nullable=False)
    ephemeral_gb: Mapped[int] = _counter()
    swap: Mapped[int] = _counter()
    is_public: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    disabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    rxtx_factor: Mapped[float] = mapped_column(
        Float, nullable=False, default=1.0, server_default="1.0"
    )


class FlavorExtraSpec(SoftDeleteMixin, Base):
    __tablename__ = "flavor_extra_specs"
    __table_args__ = (
        UniqueConstraint(
            "flavor_id", "key", "deleted", name="uniq_flavor_extra_specs0flavor_id0key0deleted"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    flavor_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("flavors.id", name="fk_flavor_extra_specs_flavor_id"), nullable=False
    )
    key: Mapped[str] = mapped_column(String(255), nullable=False)
    value: Mapped[str | None] = mapped_column(String(255))


class Instance(SoftDeleteMixin, Base):
    __tablename__ = "instances"
    __table_args__ = (
        UniqueConstraint("uuid", name="uniq_instances0uuid"),
        # In the listings' order, newest first (revision 010).
        Index(
            "ix_instances_project_id_deleted_created_at_id",
            "project_id",
            "deleted",
            "created_at",
            "id",
        ),
        Index("ix_instances_deleted_created_at_id", "deleted", "created_at", "id"),
        Index("ix_instances_host_deleted", "host", "deleted"),
        Index("ix_instances_flavor_id", "flavor_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), nullable=False)
    project_id: Mapped[str | None] = mapped_column(String(255))
    user_id: Mapped[str | None] = mapped_column(String(255))
    display_name: Mapped[str | None] = mapped_column(String(255))
    flavor_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("flavors.id", name="fk_instances_flavor_id")
    )
    memory_mb: Mapped[int | None] = mapped_column(Integer)
    vcpus: Mapped[int | None] = mapped_column(Integer)
    root_gb: Mapped[int | None] = mapped_column(Integer)
    image_ref: Mapped[str | None] = mapped_column(String(255))
    vm_state: Mapped[str | None] = mapped_column(String(255))
    task_state: Mapped[str | None] = mapped_column(String(255))
    host: Mapped[str | None] = mapped_column(String(255))
    availability_zone: Mapped[str | None] = mapped_column(String(255))
    reservation_id: Mapped[str | None] = mapped_column(String(255))
    launch_index: Mapped[int | None] = mapped_column(Integer)
    launched_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    terminated_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    # What the create body gave (revision 007).
    key_name: Mapped[str | None] = mapped_column(String(255))
    user_data: Mapped[str | None] = mapped_column(Text)
    access_ip_v4: Mapped[str | None] = mapped_column(String(39))
    access_ip_v6: Mapped[str | None] = mapped_column(String(39))
    config_drive: Mapped[str | None] = mapped_column(String(255))
    auto_disk_config: Mapped[bool | None] = mapped_column(Boolean)
    #: The security group names asked for, one a line (names hold no control characters).
    security_groups: Mapped[str | None] = mapped_column(Text)
    #: The public key of ``key_name`` when the server was made (revision 008).
    key_data: Mapped[str | None] = mapped_column(Text)


class InstanceMetadata(SoftDeleteMixin, Base):
    __tablename__ = "instance_metadata"
    __table_args__ = (Index("ix_instance_metadata_instance_id_deleted", "instance_id", "deleted"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("instances.id", name="fk_instance_metadata_instance_id"), nullable=False
    )
    key: Mapped[str] = mapped_column(String(255), nullable=False)
    value: Mapped[str | None] = mapped_column(String(255))


class InstanceFault(SoftDeleteMixin, Base):
    __tablename__ = "instance_faults"
    __table_args__ = (Index("ix_instance_faults_instance_id_deleted", "instance_id", "deleted"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("instances.id", name="fk_instance_faults_instance_id"), nullable=False
    )
    code: Mapped[int] = mapped_column(Integer, nullable=False)
    message: Mapped[str | None] = mapped_column(String(255))
    details: Mapped[str | None] = mapped_column(Text)
    host: Mapped[str | None] = mapped_column(String(255))


class Service(SoftDeleteMixin, Base):
    __tablename__ = "services"
    __table_args__ = (
        UniqueConstraint("host", "binary", "deleted", name="uniq_services0host0binary0deleted"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    host: Mapped[str] = mapped_column(String(255), nullable=False)
    binary: Mapped[str] = mapped_column(String(255), nullable=False)
    topic: Mapped[str | None] = mapped_column(String(255))
    report_count: Mapped[int] = _counter()
    disabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    disabled_reason: Mapped[str | None] = mapped_column(String(255))
    availability_zone: Mapped[str | None] = mapped_column(String(255))


class ComputeNode(SoftDeleteMixin, Base):
    __tablename__ = "compute_nodes"
    __table_args__ = (
        UniqueConstraint("host", "deleted", name="uniq_compute_nodes0host0deleted"),
        Index("ix_compute_nodes_service_id", "service_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("services.id", name="fk_compute_nodes_service_id")
    )
    host: Mapped[str] = mapped_column(String(255), nullable=False)
    hypervisor_type: Mapped[str | None] = mapped_column(String(255))
    vcpus: Mapped[int] = mapped_column(Integer, nullable=False)
    memory_mb: Mapped[int] = mapped_column(Integer, nullable=False)
    local_gb: Mapped[int] = mapped_column(Integer, nullable=False)
    vcpus_used: Mapped[int] = _counter()
    memory_mb_used: Mapped[int] = _counter()
    local_gb_used: Mapped[int] = _counter()
    running_vms: Mapped[int] = _counter()
    host_ip: Mapped[str | None] = mapped_column(String(39))
    hypervisor_version: Mapped[int | None] = mapped_column(Integer)
    cpu_info: Mapped[str | None] = mapped_column(Text)


class Network(SoftDeleteMixin, Base):
    __tablename__ = "networks"
    __table_args__ = (
        UniqueConstraint("uuid", name="uniq_networks0uuid"),
        UniqueConstraint("vlan", "deleted", name="uniq_networks0vlan0deleted"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), nullable=False)
    label: Mapped[str | None] = mapped_column(String(255))
    cidr: Mapped[str | None] = mapped_column(String(43))
    netmask: Mapped[str | None] = mapped_column(String(39))
    gateway: Mapped[str | None] = mapped_column(String(39))
    broadcast: Mapped[str | None] = mapped_column(String(39))
    dns1: Mapped[str | None] = mapped_column(String(39))
    dns2: Mapped[str | None] = mapped_column(String(39))
    dhcp_start: Mapped[str | None] = mapped_column(String(39))
    bridge: Mapped[str | None] = mapped_column(String(255))
    bridge_interface: Mapped[str | None] = mapped_column(String(255))
    vlan: Mapped[int | None] = mapped_column(Integer)
    multi_host: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    project_id: Mapped[str | None] = mapped_column(String(255))
    host: Mapped[str | None] = mapped_column(String(255))


class FixedIp(SoftDeleteMixin, Base):
    __tablename__ = "fixed_ips"
    __table_args__ = (
        UniqueConstraint("address", "deleted", name="uniq_fixed_ips0address0deleted"),
        Index("ix_fixed_ips_network_id", "network_id"),
        Index("ix_fixed_ips_instance_id", "instance_id"),
        Index("ix_fixed_ips_virtual_interface_id", "virtual_interface_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    address: Mapped[str] = mapped_column(String(39), nullable=False)
    network_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("networks.id", name="fk_fixed_ips_network_id")
    )
    instance_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("instances.id", name="fk_fixed_ips_instance_id")
    )
    virtual_interface_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("virtual_interfaces.id", name="fk_fixed_ips_virtual_interface_id")
    )
    allocated: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    leased: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    reserved: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    host: Mapped[str | None] = mapped_column(String(255))


class VirtualInterface(SoftDeleteMixin, Base):
    """One NIC of an instance.

    ``network_id`` refers to a legacy Nova network and is NULL when the VIF
    belongs to an external L2 service (Quantum or Neutron); then ``port_id``
    and ``network_uuid`` name the external port and network.
    """

    __tablename__ = "virtual_interfaces"
    __table_args__ = (
        UniqueConstraint("uuid", "deleted", name="uniq_virtual_interfaces0uuid0deleted"),
        UniqueConstraint("address", "deleted", name="uniq_virtual_interfaces0address0deleted"),
        UniqueConstraint("port_id", "deleted", name="uniq_virtual_interfaces0port_id0deleted"),
        Index("ix_virtual_interfaces_instance_id", "instance_id"),
        Index("ix_virtual_interfaces_network_id", "network_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), nullable=False)
    address: Mapped[str] = mapped_column(String(255), nullable=False)
    instance_id: Mapped[int] = mapped_column(
        Integer,
        ForeignKey("instances.id", name="fk_virtual_interfaces_instance_id"),
        nullable=False,
    )
    network_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("networks.id", name="fk_virtual_interfaces_network_id")
    )
    port_id: Mapped[str | None] = mapped_column(String(36))
    network_uuid: Mapped[str | None] = mapped_column(String(36))
    preserve_on_delete: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )


class Quota(SoftDeleteMixin, Base):
    """A project's own limit of one resource (others: the ``[quota]`` defaults)."""

    __tablename__ = "quotas"
    __table_args__ = (
        UniqueConstraint(
            "project_id", "resource", "deleted", name="uniq_quotas0project_id0resource0deleted"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[str] = mapped_column(String(255), nullable=False)
    resource: Mapped[str] = mapped_column(String(255), nullable=False)
    hard_limit: Mapped[int] = mapped_column(Integer, nullable=False)


class ProjectLock(SoftDeleteMixin, Base):
    """The row a quota-checked create of a project locks (PostgreSQL, MySQL)."""

    __tablename__ = "project_locks"
    __table_args__ = (
        UniqueConstraint("project_id", "deleted", name="uniq_project_locks0project_id0deleted"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[str] = mapped_column(String(255), nullable=False)


class KeyPair(SoftDeleteMixin, Base):
    """A user's public key (a generated pair's private key is never stored)."""

    __tablename__ = "key_pairs"
    __table_args__ = (
        UniqueConstraint("user_id", "name", "deleted", name="uniq_key_pairs0user_id0name0deleted"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    user_id: Mapped[str] = mapped_column(String(255), nullable=False)
    fingerprint: Mapped[str] = mapped_column(String(255), nullable=False)
    public_key: Mapped[str] = mapped_column(Text, nullable=False)
    type: Mapped[str] = mapped_column(
        String(10), nullable=False, default="ssh", server_default="ssh"
    )
