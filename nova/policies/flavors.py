"""Flavors: Nova's ``os_compute_api:os-flavor-manage:*`` and
``os_compute_api:os-flavor-extra-specs:*`` rules (listing flavors needs none)."""

from __future__ import annotations

from nova.policies import base

MANAGE = "os_compute_api:os-flavor-manage:%s"
EXTRA_SPECS = "os_compute_api:os-flavor-extra-specs:%s"

rules = [
    base.api_rule(MANAGE % "create", base.ADMIN, "Create a flavor", ("POST", "/flavors")),
    base.api_rule(
        MANAGE % "delete", base.ADMIN, "Delete a flavor", ("DELETE", "/flavors/{flavor_id}")
    ),
    base.api_rule(
        EXTRA_SPECS % "show",
        base.PROJECT_READER_OR_ADMIN,
        "Show an extra spec for a flavor",
        ("GET", "/flavors/{flavor_id}/os-extra_specs/{flavor_extra_spec_key}"),
    ),
    base.api_rule(
        EXTRA_SPECS % "create",
        base.ADMIN,
        "Create extra specs for a flavor",
        ("POST", "/flavors/{flavor_id}/os-extra_specs/"),
    ),
    base.api_rule(
        EXTRA_SPECS % "update",
        base.ADMIN,
        "Update an extra spec for a flavor",
        ("PUT", "/flavors/{flavor_id}/os-extra_specs/{flavor_extra_spec_key}"),
    ),
    base.api_rule(
        EXTRA_SPECS % "delete",
        base.ADMIN,
        "Delete an extra spec for a flavor",
        ("DELETE", "/flavors/{flavor_id}/os-extra_specs/{flavor_extra_spec_key}"),
    ),
    base.api_rule(
        EXTRA_SPECS % "index",
        base.PROJECT_READER_OR_ADMIN,
        "List extra specs for a flavor",
        ("GET", "/flavors/{flavor_id}/os-extra_specs/"),
    ),
]


def list_rules():
    return rules
