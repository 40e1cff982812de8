"""Schemas of the servers controller; extensions add create keys at start-up."""

from __future__ import annotations

import copy

from nova.api.openstack.schemas import types

# Nova 2.1's block device mapping (v2) entry; only an image as the local root
# disk is served (nova.api.openstack.compute.servers reads the rest as
# "not supported").
_legacy_block_device_mapping = {
    "type": "object",
    "properties": {
        "virtual_name": {"type": "string", "maxLength": 255},
        "volume_id": types.uuid,
        "snapshot_id": types.uuid,
        "volume_size": {"type": ["integer", "string"], "pattern": "^[0-9]+$", "minimum": 1},
        "device_name": {
            "type": "string",
            "minLength": 1,
            "maxLength": 255,
            "pattern": "^[a-zA-Z0-9._/-]*$",
        },
        "delete_on_termination": types.boolean,
        "no_device": {},
        "connection_info": {"type": "string", "maxLength": 16777215},
    },
    "additionalProperties": False,
}
_block_device_mapping_v2: dict = copy.deepcopy(_legacy_block_device_mapping)
_block_device_mapping_v2["properties"].update(
    {
        "source_type": {"type": "string", "enum": ["volume", "image", "snapshot", "blank"]},
        "uuid": {
            "type": "string",
            "minLength": 1,
            "maxLength": 255,
            "pattern": "^[a-zA-Z0-9._-]*$",
        },
        "image_id": types.uuid,
        "destination_type": {"type": "string", "enum": ["local", "volume"]},
        "guest_format": {"type": "string", "maxLength": 255},
        "device_type": {"type": "string", "maxLength": 255},
        "disk_bus": {"type": "string", "maxLength": 255},
        "boot_index": {"type": ["integer", "string", "null"], "pattern": "^-?[0-9]+$"},
    }
)

# Nova's scheduler hints: known ones checked, others let through (as Nova).
scheduler_hints = {
    "type": "object",
    "properties": {
        "group": {
            "oneOf": [
                {"type": "array", "items": types.uuid},
                types.uuid,
            ]
        },
        "different_host": {
            "oneOf": [types.uuid, {"type": "array", "items": types.uuid}],
        },
        "same_host": {"type": ["string", "array"], "items": types.uuid},
        "query": {"type": ["string", "object"]},
        "target_cell": types.name,
        "different_cell": {"type": ["string", "array"], "items": {"type": "string"}},
        "build_near_host_ip": types.ip_address,
        "cidr": {"type": "string", "pattern": "^/[0-9a-f.:]+$"},
    },
    "additionalProperties": True,
}

#: Largest ``user_data`` (base64 text) accepted, as Nova.
MAX_USER_DATA = 65535


def create(extra_properties: dict[str, dict], max_servers: int) -> dict:
    """Return the server create schema: Nova 2.1's keys and the extensions' ``extra_properties``.

    ``min_count`` and ``max_count`` may not exceed ``max_servers``.
    """
    count = {**types.positive_integer_or_string, "maximum": max_servers}
    properties = {
        "name": types.name,
        # Nova wants a Glance image's uuid; images here are names the virt driver knows.
        "imageRef": {"type": "string", "maxLength": 255},
        "flavorRef": {"type": ["string", "integer"], "minLength": 1, "maxLength": 255},
        "adminPass": {"type": "string"},
        "metadata": types.metadata,
        "OS-DCF:diskConfig": {"type": "string", "enum": ["AUTO", "MANUAL"]},
        "accessIPv4": types.ipv4,
        "accessIPv6": types.ipv6,
        "personality": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"path": {"type": "string"}, "contents": types.base64},
                "additionalProperties": False,
            },
        },
        "availability_zone": types.name,
        "block_device_mapping": {"type": "array", "items": _legacy_block_device_mapping},
        "block_device_mapping_v2": {"type": "array", "items": _block_device_mapping_v2},
        "config_drive": types.boolean,
        "key_name": types.name,
        "min_count": count,
        "max_count": count,
        "return_reservation_id": types.boolean,
        "security_groups": {
            "type": "array",
            # Nova leaves the number to its quota; stored, 64 names fit any database.
            "maxItems": 64,
            "items": {
                "type": "object",
                "properties": {"name": types.name},
                "additionalProperties": False,
            },
        },
        "user_data": {**types.base64, "maxLength": MAX_USER_DATA},
    }
    properties.update(copy.deepcopy(extra_properties))
    return {
        "type": "object",
        "properties": {
            "server": {
                "type": "object",
                "properties": properties,
                "required": ["name", "flavorRef"],
                "additionalProperties": False,
            },
            "os:scheduler_hints": scheduler_hints,
            "OS-SCH-HNT:scheduler_hints": scheduler_hints,
        },
        "required": ["server"],
        "additionalProperties": False,
    }


# Nova 2.1's update: any of these (none is required).
update = {
    "type": "object",
    "properties": {
        "server": {
            "type": "object",
            "properties": {
                "name": types.name,
                "accessIPv4": types.ipv4,
                "accessIPv6": types.ipv6,
                "OS-DCF:diskConfig": {"type": "string", "enum": ["AUTO", "MANUAL"]},
            },
            "additionalProperties": False,
        }
    },
    "required": ["server"],
    "additionalProperties": False,
}

# Sort keys of Nova 2.1's server listings; the ignored ones are dropped (as Nova).
SORT_KEYS = [
    "access_ip_v4", "access_ip_v6", "auto_disk_config", "availability_zone", "config_drive",
    "created_at", "display_description", "display_name", "host", "hostname", "image_ref",
    "instance_type_id", "kernel_id", "key_name", "launch_index", "launched_at", "locked_by",
    "node", "power_state", "progress", "project_id", "ramdisk_id", "root_device_name",
    "task_state", "terminated_at", "updated_at", "user_id", "uuid", "vm_state",
]  # fmt: skip
IGNORED_SORT_KEYS = [
    "architecture", "cell_name", "cleaned", "default_ephemeral_device",
    "default_swap_device", "deleted", "deleted_at", "disable_terminate",
    "ephemeral_gb", "ephemeral_key_uuid", "id", "key_data", "launched_on",
    "locked", "memory_mb", "os_type", "reservation_id", "root_gb",
    "shutdown_terminate", "user_data", "vcpus", "vm_mode",
]  # fmt: skip
# Nova's filters that join other tables: named, they are a 400.
JOINED_TABLE_FILTERS = [
    "block_device_mapping", "services", "metadata", "system_metadata",
    "info_cache", "security_groups", "pci_devices",
]  # fmt: skip

# Nova 2.1's list query: its known parameters checked, unknown ones ignored
# (additionalProperties; strict only from 2.75). Parameters that are not
# the caller's to use (admin filters of a non-admin) are dropped by the
# controller, as Nova's remove_invalid_options.
index_query = {
    "type": "object",
    "properties": {
        "limit": types.query_non_negative_integer,
        "marker": types.query_string,
        "name": {
            **types.query_regex,
            "description": "A regular expression the server's name must contain a match of.",
        },
        "display_name": types.query_regex,
        "status": {
            "type": "string",
            "maxLength": 255,
            "description": "Any Nova status name (ACTIVE, BUILD, SHUTOFF, ERROR, ...) or "
            "DEFINED; repeat for several. One that no server can have lists none.",
        },
        "ip": {
            **types.query_regex,
            "description": "A regular expression one of the server's fixed IPv4 "
            "addresses must contain a match of.",
        },
        "ip6": types.query_regex,
        "image": types.query_string,
        "flavor": types.query_string,
        "reservation_id": types.query_string,
        "all_tenants": types.query_string,
        "deleted": types.query_string,
        "host": types.query_string,
        "project_id": types.query_string,
        "tenant_id": types.query_string,
        "user_id": types.query_string,
        "vm_state": types.query_string,
        "task_state": types.query_string,
        "availability_zone": types.query_regex,
        "uuid": types.query_string,
        "sort_key": {"type": "string", "enum": SORT_KEYS + IGNORED_SORT_KEYS},
        "sort_dir": {"type": "string", "enum": ["asc", "desc"]},
        "changes-since": {
            **types.query_date_time,
            "description": (
                "Only the servers changed (created, updated or deleted) at or after this "
                "ISO 8601 time, e.g. 2026-11-22T01:02:03Z (no offset: UTC), deleted ones "
                "included, with status DELETED."
            ),
        },
        **{name: types.query_string for name in JOINED_TABLE_FILTERS},
    },
    "additionalProperties": True,
}

action = {
    "type": "object",
    "minProperties": 1,
    "maxProperties": 1,
}


def actions(argument_schemas: dict[str, dict]) -> dict:
    """Return the schema of a valid action body: one known action with its argument.

    The controller checks ``action`` and lets the action check its argument
    (an unknown action is a 400 of its own); this is what the API description
    shows.
    """
    if not argument_schemas:
        return action
    return {
        "oneOf": [
            {
                "type": "object",
                "properties": {name: copy.deepcopy(argument)},
                "required": [name],
                "additionalProperties": False,
            }
            for name, argument in sorted(argument_schemas.items())
        ]
    }
