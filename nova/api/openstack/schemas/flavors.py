"""Schemas of the flavors controller."""

from __future__ import annotations

from nova.api.openstack.schemas import types

# Nova's flavor sort keys (2.1); those of columns this database does not
# have (description, rxtx_factor, vcpu_weight) sort by the default key.
SORT_KEYS = [
    "created_at", "description", "disabled", "ephemeral_gb", "flavorid", "id",
    "is_public", "memory_mb", "name", "root_gb", "rxtx_factor", "swap",
    "updated_at", "vcpu_weight", "vcpus",
]  # fmt: skip

# Nova 2.1's list query: unknown parameters ignored (strict only from 2.75).
index_query = {
    "type": "object",
    "properties": {
        "limit": types.query_non_negative_integer,
        "marker": types.query_string,
        "is_public": {
            "type": "string",
            "maxLength": 255,
            "description": "Admins only (ignored for others): true (the default) lists "
            "public flavors, false private ones, None both; any other value is a 400.",
        },
        "minRam": {**types.query_integer, "description": "Flavors with at least this RAM (MiB)."},
        "minDisk": {**types.query_integer, "description": "Flavors with at least this disk (GiB)."},
        "sort_key": {"type": "string", "enum": SORT_KEYS},
        "sort_dir": {"type": "string", "enum": ["asc", "desc"]},
    },
    "additionalProperties": True,
}
