"""Body of ``POST /servers/{id}/os-interface`` (Nova 2.1's ``interfaceAttachment``)."""

from __future__ import annotations

from nova.api.openstack.schemas import types

create = {
    "type": "object",
    "properties": {
        "interfaceAttachment": {
            "type": "object",
            "properties": {
                # Nova: network_id is a uuid, network_port_id a uuid-like string.
                "net_id": types.uuid,
                "port_id": types.uuid,
                "fixed_ips": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 1,
                    "items": {
                        "type": "object",
                        "properties": {"ip_address": types.ip_address},
                        "required": ["ip_address"],
                        "additionalProperties": False,
                    },
                },
            },
            "additionalProperties": False,
        }
    },
    "additionalProperties": False,
}
