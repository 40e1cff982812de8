"""JSON Schemas of the request bodies (XML bodies are converted first)."""

from __future__ import annotations

_name = {"type": "string", "minLength": 1, "maxLength": 255}
_state = {"enum": ["ACTIVE", "DOWN"]}
_configuration = {
    "type": "object",
    "maxProperties": 64,
    "propertyNames": {"minLength": 1, "maxLength": 255, "pattern": "^[A-Za-z0-9_.:-]+$"},
    "additionalProperties": {"type": "string", "maxLength": 1024},
}
# On update a null value removes the key.
_configuration_update = {
    **_configuration,
    "additionalProperties": {"type": ["string", "null"], "maxLength": 1024},
}


def _wrapped(name: str, properties: dict, required: list[str], min_properties: int = 0) -> dict:
    return {
        "type": "object",
        "properties": {
            name: {
                "type": "object",
                "properties": properties,
                "required": required,
                "minProperties": min_properties,
                "additionalProperties": False,
            }
        },
        "required": [name],
        "additionalProperties": False,
    }


network_create = _wrapped(
    "network", {"name": _name, "plugin": _name, "configuration": _configuration}, ["name"]
)
network_update = _wrapped(
    "network",
    {"name": _name, "plugin": _name, "configuration": _configuration_update},
    [],
    min_properties=1,
)
# An empty POST body creates a port too (see ports.PortController.create).
port_create = _wrapped("port", {"state": _state, "configuration": _configuration}, [])
port_update = _wrapped(
    "port", {"state": _state, "configuration": _configuration_update}, [], min_properties=1
)
attachment = _wrapped("attachment", {"id": _name}, ["id"])
