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
