"""Bodies of ``/os-keypairs`` (Nova 2.1's keys)."""

from __future__ import annotations

from nova.api.openstack.schemas import types

create = {
    "type": "object",
    "properties": {
        "keypair": {
            "type": "object",
            "properties": {
                "name": types.name,
                "public_key": {"type": "string", "maxLength": 65535},
            },
            "required": ["name"],
            "additionalProperties": False,
        }
    },
    "required": ["keypair"],
    "additionalProperties": False,
}

# Nova 2.1 defines no query parameters here (user_id came with 2.10): any are ignored.
index_query = {"type": "object", "properties": {}, "additionalProperties": True}
