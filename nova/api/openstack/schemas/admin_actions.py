"""The ``os-resetState`` server action's argument, as Nova 2.1 takes it."""

from __future__ import annotations

reset_state = {
    "type": "object",
    "properties": {"state": {"type": "string", "enum": ["active", "error"]}},
    "required": ["state"],
    "additionalProperties": False,
}
