"""Host aggregates: Nova's ``os_compute_api:os-aggregates:index`` rule (the list only)."""

from __future__ import annotations

from nova.policies import base

rules = [
    base.api_rule(
        "os_compute_api:os-aggregates:index",
        base.ADMIN,
        "List all aggregates",
        ("GET", "/os-aggregates"),
    ),
]


def list_rules():
    return rules
