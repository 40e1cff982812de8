"""os-server-networks: choose a server's NICs on create (Quantum ports or networks)."""

from __future__ import annotations

from nova.api.openstack import extensions
from nova.api.openstack.schemas import types
from nova.compute import api as compute_api

_ENTRY = {
    "type": "object",
    "properties": {
        "uuid": types.uuid,
        "port": types.uuid,
        "fixed_ip": types.ipv4,
    },
    "anyOf": [{"required": ["uuid"]}, {"required": ["port"]}],
    "additionalProperties": False,
}


class ServerNetworks(extensions.ExtensionDescriptor):
    """``networks`` on server create: one VIF per entry, in order."""

    name = "ServerNetworks"
    alias = "os-server-networks"
    namespace = "http://docs.openstack.org/compute/ext/server_networks/api/v1.1"
    updated = "2011-09-01T00:00:00Z"
    description = (
        "Pick a server's NICs on create: 'networks' entries with an existing 'port' "
        "(a Quantum port of the caller) or a network 'uuid' (a new port on it, "
        "with an optional 'fixed_ip'); 'none' for no NIC; 'auto' or absent for "
        "every network of the project."
    )

    def get_server_create_schema(self):
        return {
            "networks": {
                "oneOf": [
                    {"type": "array", "items": _ENTRY, "maxItems": 32},
                    {"type": "string", "enum": ["none", "auto"]},
                ]
            }
        }

    def get_server_create_kwargs(self, server):
        networks = server.get("networks", "auto")
        if networks == "auto":
            return {}
        if networks == "none":
            return {"requested_networks": []}
        return {
            "requested_networks": [
                compute_api.RequestedNetwork(
                    network_id=entry.get("uuid"),
                    port_id=entry.get("port"),
                    fixed_ip=entry.get("fixed_ip"),
                )
                for entry in networks
            ]
        }
