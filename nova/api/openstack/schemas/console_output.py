"""The ``os-getConsoleOutput`` server action's argument, as Nova 2.1 takes it."""

from __future__ import annotations

# Nova's: an integer or a string of digits; -1 (and null, or no length) means all.
get_console_output = {
    "type": "object",
    "properties": {
        "length": {
            "type": ["integer", "string", "null"],
            "pattern": "^(-1|[0-9]+)$",
            "minimum": -1,
        },
    },
    "additionalProperties": False,
}
