"""Schemas of ``os-services``, as Nova 2.1 has them."""

from __future__ import annotations

from nova.api.openstack.schemas import types

_reason = {"type": "string", "minLength": 1, "maxLength": 255}

update = {
    "type": "object",
    "properties": {
        "host": types.fqdn,
        "binary": {"type": "string", "minLength": 1, "maxLength": 255},
        "disabled_reason": _reason,
    },
    "required": ["host", "binary"],
    "additionalProperties": False,
}

# Unknown parameters are ignored, as Nova does before 2.75.
index_query = {
    "type": "object",
    "properties": {"host": types.query_string, "binary": types.query_string},
    "additionalProperties": True,
}
