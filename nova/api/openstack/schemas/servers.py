"""Schemas of the servers controller; extensions add create keys at start-up."""

from __future__ import annotations

import copy

from nova.api.openstack.schemas import types


def create(extra_properties: dict[str, dict], max_servers: int) -> dict:
    """Return the server create schema with the extensions' ``extra_properties``.

    ``min_count`` and ``max_count`` may not exceed ``max_servers``.
    """
    count = {**types.positive_integer, "maximum": max_servers}
    properties = {
        "name": types.name,
        "imageRef": {"type": "string", "minLength": 1, "maxLength": 255},
        "flavorRef": {"type": ["string", "integer"], "minLength": 1, "maxLength": 255},
        "metadata": types.metadata,
        "min_count": count,
        "max_count": count,
        "availability_zone": types.name,
        "return_reservation_id": {"type": "boolean"},
        "key_name": types.name,
    }
    properties.update(copy.deepcopy(extra_properties))
    return {
        "type": "object",
        "properties": {
            "server": {
                "type": "object",
                "properties": properties,
                "required": ["name", "imageRef", "flavorRef"],
                "additionalProperties": False,
            }
        },
        "required": ["server"],
        "additionalProperties": False,
    }


update = {
    "type": "object",
    "properties": {
        "server": {
            "type": "object",
            "properties": {"name": types.name},
            "required": ["name"],
            "additionalProperties": False,
        }
    },
    "required": ["server"],
    "additionalProperties": False,
}

index_query = {
    "type": "object",
    "properties": {
        "limit": types.query_non_negative_integer,
        "marker": types.query_string,
        "name": types.query_string,
        "status": {"type": "string", "enum": ["DEFINED", "BUILD", "ACTIVE", "SHUTOFF", "ERROR"]},
        "all_tenants": {"type": "string", "enum": ["1", "0", "true", "false", "True", "False"]},
        "project_id": types.query_string,
        "changes-since": {
            **types.query_date_time,
            "description": (
                "Only the servers changed (created, updated or deleted) at or after this "
                "ISO 8601 time, e.g. 2026-11-22T01:02:03Z (no offset: UTC), deleted ones "
                "included, with status DELETED."
            ),
        },
    },
    "additionalProperties": False,
}

action = {
    "type": "object",
    "minProperties": 1,
    "maxProperties": 1,
}


def actions(argument_schemas: dict[str, dict]) -> dict:
    """Return the schema of a valid action body: one known action with its argument.

    The controller checks ``action`` and lets the action check its argument
    (an unknown action is a 400 of its own); this is what the API description
    shows.
    """
    if not argument_schemas:
        return action
    return {
        "oneOf": [
            {
                "type": "object",
                "properties": {name: copy.deepcopy(argument)},
                "required": [name],
                "additionalProperties": False,
            }
            for name, argument in sorted(argument_schemas.items())
        ]
    }
