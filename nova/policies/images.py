"""Nova's image proxy (``/images``).

Nova has no rule for reading or deleting images: the image service decides
(Glance: visibility, the image's owner, its own policy). The local image
store has no owners, so deleting one of its images is this cloud's own rule.
"""

from __future__ import annotations

from nova.policies import base

rules = [
    base.api_rule(
        "os_compute_api:images:local:delete",
        base.ADMIN,
        "Delete an image of the local image store ([image] backend = local)",
        ("DELETE", "/images/{image_id}"),
    ),
]


def list_rules():
    return rules
