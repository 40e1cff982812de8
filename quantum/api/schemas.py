"""JSON Schemas of the request bodies (XML bodies are converted first)."""

from __future__ import annotations

# Lengths are those of the columns the values go to (quantum/db/models.py;
# tests/unit/quantum/test_schemas.py holds them equal). Every string is
# shown in XML listings too, so none may hold a character XML 1.0 cannot
# carry (C0 controls but tab, CR and LF; U+FFFE, U+FFFF); names and ids no
# control character at all (nor DEL).
_NO_CONTROL = "^[^\\x00-\\x1f\\x7f\\ufffe\\uffff]*$"
_XML_TEXT = "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\ufffe\\uffff]*$"
_name = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": _NO_CONTROL}
_state = {"enum": ["ACTIVE", "DOWN"]}
_configuration = {
    "type": "object",
    "maxProperties": 64,
    "propertyNames": {"minLength": 1, "maxLength": 255, "pattern": "^[A-Za-z0-9_.:-]+$"},
    "additionalProperties": {"type": "string", "maxLength": 1024, "pattern": _XML_TEXT},
}
# On update a null value removes the key.
_configuration_update = {
    **_configuration,
    "additionalProperties": {"type": ["string", "null"], "maxLength": 1024, "pattern": _XML_TEXT},
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


# An address or CIDR as text (quantum/ipam.py checks it; 64: the columns' length).
_ip_text = {"type": "string", "minLength": 1, "maxLength": 64, "pattern": _NO_CONTROL}
# The subnet extension attribute of a network (``dhcp_server`` is Quantum's choice).
_subnet = {
    "type": "object",
    "properties": {
        "cidr": _ip_text,
        "gateway_ip": {"anyOf": [_ip_text, {"type": "null"}]},
        "enable_dhcp": {"type": "boolean"},
    },
    "required": ["cidr"],
    "additionalProperties": False,
}
network_create = _wrapped(
    "network",
    {"name": _name, "plugin": _name, "configuration": _configuration, "subnet": _subnet},
    ["name"],
)
# On update a null subnet removes it.
network_update = _wrapped(
    "network",
    {
        "name": _name,
        "plugin": _name,
        "configuration": _configuration_update,
        "subnet": {"anyOf": [_subnet, {"type": "null"}]},
    },
    [],
    min_properties=1,
)
# An empty POST body creates a port too (see ports.PortController.create).
port_create = _wrapped(
    "port", {"state": _state, "configuration": _configuration, "fixed_ip": _ip_text}, []
)
# op-status is what the plugin's agent found on the host (admin only): UP when wired.
port_update = _wrapped(
    "port",
    {
        "state": _state,
        "configuration": _configuration_update,
        "op-status": {"enum": ["UP", "DOWN"]},
    },
    [],
    min_properties=1,
)
attachment = _wrapped("attachment", {"id": _name}, ["id"])
