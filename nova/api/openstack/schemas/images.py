"""Schemas of the images controller (Nova 2.1's image proxy)."""

from __future__ import annotations

from nova.api.openstack.schemas import types

# Nova 2.1's list query: unknown parameters ignored.
index_query = {
    "type": "object",
    "properties": {
        "limit": types.query_non_negative_integer,
        "marker": types.query_string,
        "name": {**types.query_string, "description": "Images of exactly this name."},
        "status": {
            **types.query_string,
            "description": "Images in this image-service status (active, queued, saving, "
            "killed, deleted, pending_delete; any case).",
        },
    },
    "additionalProperties": True,
}
