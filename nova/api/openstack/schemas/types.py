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
ipv6 = {"type": "string", "format": "ipv6"}
ip_address = {"type": "string", "oneOf": [{"format": "ipv4"}, {"format": "ipv6"}]}
positive_integer = {"type": "integer", "minimum": 1}
# Nova's: an integer, or a string of digits ("2").
positive_integer_or_string = {
    "type": ["integer", "string"],
    "pattern": "^[0-9]*$",
    "minimum": 1,
    "minLength": 1,
}
# Nova's boolean of request bodies: true/false or one of these strings (written
# as anyOf so that the compiled checker takes it: its enums are of strings).
boolean = {
    "anyOf": [
        {"type": "boolean"},
        {
            "type": "string",
            "enum": [
                "True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes", "yes",
                "False", "FALSE", "false", "0", "OFF", "Off", "off", "NO", "No", "no",
            ],
        },
    ]
}  # fmt: skip
base64 = {"type": "string", "format": "base64"}
# How many items a server may have is a quota ([quota] metadata_items, 403), not a schema rule.
metadata = {
    "type": "object",
    "propertyNames": {"minLength": 1, "maxLength": 255},
    "additionalProperties": {"type": "string", "maxLength": 255},
}
# Query values arrive as strings.
query_integer = {"type": "string", "pattern": r"^\s*[-+]?[0-9]{1,9}\s*$"}
# A regular expression (Python's syntax, checked before it reaches the database).
query_regex = {"type": "string", "format": "regex", "maxLength": 255}
query_non_negative_integer = {"type": "string", "pattern": "^[0-9]{1,9}$"}
query_string = {"type": "string", "maxLength": 255}
# An ISO 8601 date and time (nova.utils.parse_isotime); no offset means UTC.
query_date_time = {"type": "string", "format": "date-time", "maxLength": 64}
# A host name as Nova's os-services reads it.
fqdn = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[a-zA-Z0-9-._]*$"}
