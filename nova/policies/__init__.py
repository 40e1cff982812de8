"""Nova's default policy rules, one module per API as in Nova (nova/policies/).

``list_rules()`` is the ``oslo.policy.policies`` entry point of
``oslopolicy-sample-generator`` (``etc/nova-policy-generator.conf``) and what
``nova.api.openstack.policy`` registers on its enforcer.
"""

from __future__ import annotations

import itertools

from nova.policies import admin_actions
from nova.policies import aggregates
from nova.policies import attach_interfaces
from nova.policies import availability_zone
from nova.policies import base
from nova.policies import console_output
from nova.policies import extensions
from nova.policies import flavors
from nova.policies import hypervisors
from nova.policies import images
from nova.policies import ips
from nova.policies import keypairs
from nova.policies import quota_sets
from nova.policies import server_metadata
from nova.policies import servers
from nova.policies import services


def list_rules():
    """Return every default rule: the base aliases first, then the API rules."""
    return list(
        itertools.chain(
            base.list_rules(),
            admin_actions.list_rules(),
            aggregates.list_rules(),
            attach_interfaces.list_rules(),
            availability_zone.list_rules(),
            console_output.list_rules(),
            extensions.list_rules(),
            flavors.list_rules(),
            hypervisors.list_rules(),
            images.list_rules(),
            ips.list_rules(),
            keypairs.list_rules(),
            quota_sets.list_rules(),
            server_metadata.list_rules(),
            servers.list_rules(),
            services.list_rules(),
        )
    )
