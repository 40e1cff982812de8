"""Schema fragments shared by the API's schemas (and by extensions)."""

from __future__ import annotations

uuid = {"type": "string", "format": "uuid", "minLength": 36, "maxLength": 36}
name = {
    "type": "string",
    "minLength": 1,
    "maxLength": 255,
    "pattern": r"^(?!\s)[^\x00-\x1f]*(?<!\s)$",  # no control characters, no edge spaces
}
ipv4 = {"type": "string", "format": "ipv4"}
positive_integer = {"type": "integer", "minimum": 1}
# How many items a server may have is a quota ([quota] metadata_items, 403), not a schema rule.
metadata = {
    "type": "object",
    "propertyNames": {"minLength": 1, "maxLength": 255},
    "additionalProperties": {"type": "string", "maxLength": 255},
}
# Query values arrive as strings.
query_non_negative_integer = {"type": "string", "pattern": "^[0-9]{1,9}$"}
query_string = {"type": "string", "maxLength": 255}
# An ISO 8601 date and time (nova.utils.parse_isotime); no offset means UTC.
query_date_time = {"type": "string", "format": "date-time", "maxLength": 64}
# A boolean, or one of the strings Nova reads as one (oslo's bool_from_string, strict).
boolean = {
    "type": ["boolean", "string"],
    "enum": [
        True, "True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes", "yes",
        False, "False", "FALSE", "false", "0", "OFF", "Off", "off", "NO", "No", "no",
    ],
}  # fmt: skip
# A host name as Nova's os-services reads it.
fqdn = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[a-zA-Z0-9-._]*$"}
