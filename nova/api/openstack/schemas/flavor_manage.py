"""Schemas of flavor-manage (``POST /flavors``), as Nova 2.1 has them."""

from __future__ import annotations

from nova.api.openstack.schemas import types

# Integers, or strings of digits (Nova takes both); up to the database's INT.
_positive = {
    "type": ["integer", "string"],
    "pattern": "^[0-9]+$",
    "minimum": 1,
    "maximum": 0x7FFFFFFF,
}
_non_negative = {**_positive, "minimum": 0}

create = {
    "type": "object",
    "properties": {
        "flavor": {
            "type": "object",
            "properties": {
                "name": types.name,
                # Absent, null or "": a new UUID.
                "id": {
                    "type": ["string", "number", "null"],
                    "minLength": 1,
                    "maxLength": 255,
                    "pattern": "^(?! )[a-zA-Z0-9. _-]+(?<! )$",
                },
                "ram": _positive,
                "vcpus": _positive,
                "disk": _non_negative,
                "OS-FLV-EXT-DATA:ephemeral": _non_negative,
                "swap": _non_negative,
                "rxtx_factor": {
                    "type": ["number", "string"],
                    "pattern": r"^[0-9]+(\.[0-9]+)?$",
                    "exclusiveMinimum": 0,
                    "maximum": 3.40282e38,
                },
                "os-flavor-access:is_public": types.boolean,
            },
            "required": ["name", "ram", "vcpus", "disk"],
            "additionalProperties": False,
        }
    },
    "required": ["flavor"],
    "additionalProperties": False,
}
