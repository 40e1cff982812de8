"""Schemas of a flavor's ``os-extra_specs``, as Nova 2.1 has them."""

from __future__ import annotations

#: What a key may be made of (Nova's metadata keys).
KEY_PATTERN = "^[a-zA-Z0-9-_:. ]{1,255}$"

# Values may be numbers (stored and shown as strings afterwards).
_specs = {
    "type": "object",
    "patternProperties": {KEY_PATTERN: {"type": ["string", "number"], "maxLength": 255}},
    "additionalProperties": False,
}

create = {
    "type": "object",
    "properties": {"extra_specs": _specs},
    "required": ["extra_specs"],
    "additionalProperties": False,
}

update = {**_specs, "minProperties": 1, "maxProperties": 1}

# Nova 2.1 ignores query parameters here.
index_query: dict = {"type": "object", "properties": {}, "additionalProperties": True}
show_query = index_query
