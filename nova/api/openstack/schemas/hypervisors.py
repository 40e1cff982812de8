"""Schemas of ``os-hypervisors``: Nova 2.1 takes no query parameters (and ignores any)."""

from __future__ import annotations

index_query: dict = {"type": "object", "properties": {}, "additionalProperties": True}
