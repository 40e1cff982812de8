"""Schemas of the server metadata controller (Nova 2.1's ``server_metadata``)."""

from __future__ import annotations

from nova.api.openstack.schemas import types

create = {
    "type": "object",
    "properties": {"metadata": types.metadata},
    "required": ["metadata"],
    "additionalProperties": False,
}

update_all = create

# One item; its key must be the URL's (the controller checks that).
update = {
    "type": "object",
    "properties": {"meta": {**types.metadata, "minProperties": 1, "maxProperties": 1}},
    "required": ["meta"],
    "additionalProperties": False,
}
