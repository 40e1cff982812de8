"""The records the data API returns: one declared type per entity.

Each is a ``typing.NamedTuple`` whose fields are its table's columns (or,
for the views' rows, its statement's selected columns) in order, so a Core
row becomes one with ``Record(*row)`` or ``Record._make(row)``; a unit test
holds the fields and the columns together. Records are read-only values:
to change a row, call the data API.
"""

from __future__ import annotations

import datetime
from typing import NamedTuple


class Flavor(NamedTuple):
    """A row of ``flavors``."""

    id: int
    flavorid: str
    name: str
    memory_mb: int
    vcpus: int
    root_gb: int
    ephemeral_gb: int
    swap: int
    is_public: bool
    disabled: bool
    rxtx_factor: float
    created_at: datetime.datetime | None
    updated_at: datetime.datetime | None
    deleted_at: datetime.datetime | None
    deleted: int


class FlavorExtraSpec(NamedTuple):
    """A row of ``flavor_extra_specs``."""

    id: int
    flavor_id: int
    key: str
    value: str | None
    created_at: datetime.datetime | None
    updated_at: datetime.datetime | None
    deleted_at: datetime.datetime | None
    deleted: int


class Instance(NamedTuple):
    """A row of ``instances``."""

    id: int
    uuid: str
    project_id: str | None
    user_id: str | None
    display_name: str | None
    flavor_id: int | None
    memory_mb: int | None
    vcpus: int | None
    root_gb: int | None
    image_ref: str | None
    vm_state: str | None
    task_state: str | None
    host: str | None
    availability_zone: str | None
    reservation_id: str | None
    launch_index: int | None
    launched_at: datetime.datetime | None
    terminated_at: datetime.datetime | None
    key_name: str | None
    user_data: str | None
    access_ip_v4: str | None
    access_ip_v6: str | None
    config_drive: str | None
    auto_disk_config: bool | None
    security_groups: str | None
    key_data: str | None
    created_at: datetime.datetime | None
    updated_at: datetime.datetime | None
    deleted_at: datetime.datetime | None
    deleted: int


class BuildingInstance(NamedTuple):
    """A building instance as the scheduler's sweep reads it (``instances.BUILDING``)."""

    uuid: str
    host: str | None
    task_state: str | None
    changed_at: datetime.datetime


class InstanceFault(NamedTuple):
    """A row of ``instance_faults``."""

    id: int
    instance_id: int
    code: int
    message: str | None
    details: str | None
    host: str | None
    created_at: datetime.datetime | None
    updated_at: datetime.datetime | None
    deleted_at: datetime.datetime | None
    deleted: int


class Service(NamedTuple):
    """A row of ``services``."""

    id: int
    host: str
    binary: str
    topic: str | None
    report_count: int
    disabled: bool
    disabled_reason: str | None
    availability_zone: str | None
    created_at: datetime.datetime | None
    updated_at: datetime.datetime | None
    deleted_at: datetime.datetime | None
    deleted: int


class ComputeNode(NamedTuple):
    """A row of ``compute_nodes``."""

    id: int
    service_id: int | None
    host: str
    hypervisor_type: str | None
    vcpus: int
    memory_mb: int
    local_gb: int
    vcpus_used: int
    memory_mb_used: int
    local_gb_used: int
    running_vms: int
    host_ip: str | None
    hypervisor_version: int | None
    cpu_info: str | None
    created_at: datetime.datetime | None
    updated_at: datetime.datetime | None
    deleted_at: datetime.datetime | None
    deleted: int


class Network(NamedTuple):
    """A row of ``networks``."""

    id: int
    uuid: str
    label: str | None
    cidr: str | None
    netmask: str | None
    gateway: str | None
    broadcast: str | None
    dns1: str | None
    dns2: str | None
    dhcp_start: str | None
    bridge: str | None
    bridge_interface: str | None
    vlan: int | None
    multi_host: bool
    project_id: str | None
    host: str | None
    created_at: datetime.datetime | None
    updated_at: datetime.datetime | None
    deleted_at: datetime.datetime | None
    deleted: int


class FixedIp(NamedTuple):
    """A row of ``fixed_ips``."""

    id: int
    address: str
    network_id: int | None
    instance_id: int | None
    virtual_interface_id: int | None
    allocated: bool
    leased: bool
    reserved: bool
    host: str | None
    created_at: datetime.datetime | None
    updated_at: datetime.datetime | None
    deleted_at: datetime.datetime | None
    deleted: int


class VirtualInterface(NamedTuple):
    """A row of ``virtual_interfaces``."""

    id: int
    uuid: str
    address: str
    instance_id: int
    network_id: int | None
    port_id: str | None
    network_uuid: str | None
    preserve_on_delete: bool
    created_at: datetime.datetime | None
    updated_at: datetime.datetime | None
    deleted_at: datetime.datetime | None
    deleted: int


class InstanceView(NamedTuple):
    """An instance as the API's server views read it: its row and what they show with it.

    ``flavorid`` is its flavor's public id (None without a flavor row); for
    an instance in ERROR the ``fault_*`` fields are its newest fault's (None
    otherwise).
    """

    id: int
    uuid: str
    project_id: str | None
    user_id: str | None
    display_name: str | None
    flavor_id: int | None
    memory_mb: int | None
    vcpus: int | None
    root_gb: int | None
    image_ref: str | None
    vm_state: str | None
    task_state: str | None
    host: str | None
    availability_zone: str | None
    reservation_id: str | None
    launch_index: int | None
    launched_at: datetime.datetime | None
    terminated_at: datetime.datetime | None
    key_name: str | None
    user_data: str | None
    access_ip_v4: str | None
    access_ip_v6: str | None
    config_drive: str | None
    auto_disk_config: bool | None
    security_groups: str | None
    key_data: str | None
    created_at: datetime.datetime | None
    updated_at: datetime.datetime | None
    deleted_at: datetime.datetime | None
    deleted: int
    flavorid: str | None
    fault_code: int | None
    fault_message: str | None
    fault_details: str | None
    fault_created_at: datetime.datetime | None


class VirtualInterfaceView(NamedTuple):
    """A VIF as the API's VIF views read it; ``network_uuid`` is its legacy or external network."""

    uuid: str
    address: str
    network_uuid: str | None


class KeyPair(NamedTuple):
    """A row of ``key_pairs``."""

    id: int
    name: str
    user_id: str
    fingerprint: str
    public_key: str
    type: str
    created_at: datetime.datetime | None
    updated_at: datetime.datetime | None
    deleted_at: datetime.datetime | None
    deleted: int
