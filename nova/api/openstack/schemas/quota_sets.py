"""Bodies and queries of ``/os-quota-sets`` (Nova 2.1's keys)."""

from __future__ import annotations

#: Largest limit the database column holds.
MAX_LIMIT = 0x7FFFFFFF

# A limit: -1 (unlimited) or more, as a number or a string of digits (as Nova).
limit = {
    "type": ["integer", "string"],
    "pattern": "^-?[0-9]{1,10}$",
    "minimum": -1,
    "maximum": MAX_LIMIT,
}
boolean = {
    "type": ["boolean", "string"],
    "enum": [True, False, "True", "true", "TRUE", "False", "false", "FALSE", "1", "0",
             "yes", "no", "on", "off", "y", "n", "t", "f"],
}  # fmt: skip

#: Resources a PUT may name: Nova 2.1's (the network ones are accepted and ignored).
RESOURCES = (
    "instances",
    "cores",
    "ram",
    "floating_ips",
    "fixed_ips",
    "metadata_items",
    "key_pairs",
    "security_groups",
    "security_group_rules",
    "injected_files",
    "injected_file_content_bytes",
    "injected_file_path_bytes",
    "server_groups",
    "server_group_members",
    "networks",
)

update = {
    "type": "object",
    "properties": {
        "quota_set": {
            "type": "object",
            "properties": {"force": boolean, **dict.fromkeys(RESOURCES, limit)},
            "additionalProperties": False,
        }
    },
    "required": ["quota_set"],
    "additionalProperties": False,
}

# Nova 2.1 reads user_id (per-user quotas, not offered here) and ignores the rest.
show_query = {"type": "object", "properties": {}, "additionalProperties": True}
