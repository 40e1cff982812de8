"""The query of ``/limits`` (Nova 2.1's parameters; others are ignored)."""

from __future__ import annotations

from nova.api.openstack.schemas import types

index_query = {
    "type": "object",
    "properties": {"tenant_id": types.query_string, "reserved": types.query_string},
    "additionalProperties": True,
}
