"""Schemas of the flavors controller."""

from __future__ import annotations

index_query = {"type": "object", "properties": {}, "additionalProperties": False}
