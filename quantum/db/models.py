"""Quantum's tables (the schema at the newest revision of ``quantum/db/migrations``)."""

from __future__ import annotations

import datetime

from sqlalchemy import Boolean
from sqlalchemy import DateTime
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import MetaData
from sqlalchemy import String
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column


def utcnow() -> datetime.datetime:
    """Return the current UTC time without tzinfo, as stored."""
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    metadata = MetaData()


class Network(Base):
    __tablename__ = "networks"
    __table_args__ = (Index("ix_networks_tenant_id", "tenant_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(255), nullable=False)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    plugin: Mapped[str] = mapped_column(String(255), nullable=False)
    op_status: Mapped[str] = mapped_column(String(16), nullable=False)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    # The network's subnet (revision 002), all NULL without one (``quantum.ipam.Subnet``).
    subnet_id: Mapped[str | None] = mapped_column(String(36))
    cidr: Mapped[str | None] = mapped_column(String(64))
    gateway_ip: Mapped[str | None] = mapped_column(String(64))
    enable_dhcp: Mapped[bool | None] = mapped_column(Boolean)
    dhcp_server: Mapped[str | None] = mapped_column(String(64))


class Port(Base):
    """A port; ``interface_id`` is its attachment (a VIF's uuid), unique.

    ``fixed_ip`` (revision 002) is its address on the network's subnet,
    unique per network (NULL: none).
    """

    __tablename__ = "ports"
    __table_args__ = (
        UniqueConstraint("interface_id", name="uniq_ports0interface_id"),
        Index("ix_ports_network_id", "network_id"),
        # A unique index rather than a constraint: SQLite adds one without
        # rebuilding the table (revision 002).
        Index("uniq_ports0network_id0fixed_ip", "network_id", "fixed_ip", unique=True),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    network_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("networks.id", name="fk_ports_network_id"), nullable=False
    )
    state: Mapped[str] = mapped_column(String(16), nullable=False)
    op_status: Mapped[str] = mapped_column(String(16), nullable=False)
    interface_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    fixed_ip: Mapped[str | None] = mapped_column(String(64))


class NetworkConfiguration(Base):
    """A key/value an admin set on a network; it reaches every port's configuration."""

    __tablename__ = "network_configurations"

    network_id: Mapped[str] = mapped_column(
        String(36),
        ForeignKey("networks.id", name="fk_network_configurations_network_id", ondelete="CASCADE"),
        primary_key=True,
    )
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[str] = mapped_column(String(1024), nullable=False)


class PortConfiguration(Base):
    """A key/value an admin set on one port; it wins over the network's and the plugin's."""

    __tablename__ = "port_configurations"

    port_id: Mapped[str] = mapped_column(
        String(36),
        ForeignKey("ports.id", name="fk_port_configurations_port_id", ondelete="CASCADE"),
        primary_key=True,
    )
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[str] = mapped_column(String(1024), nullable=False)
