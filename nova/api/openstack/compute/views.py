"""How servers and flavors look in the API (the public shapes clients rely on)."""

from __future__ import annotations

import datetime
import hashlib

from nova.api.openstack import policy
from nova.compute import vm_states


def isotime(value: datetime.datetime | None) -> str | None:
    """Return ``value`` as ``2011-08-17T12:00:00Z`` (None stays None)."""
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def links(request, collection: str, item_id: str) -> list[dict]:
    """Return the self and bookmark links of an item."""
    return [
        {"rel": "self", "href": f"{request.host_url}/v2.1/{collection}/{item_id}"},
        {"rel": "bookmark", "href": f"{request.host_url}/{collection}/{item_id}"},
    ]


def host_id(instance) -> str:
    """Return an opaque id of the instance's host, the same within one project."""
    if not instance.host:
        return ""
    return hashlib.sha224(f"{instance.project_id}{instance.host}".encode()).hexdigest()


def flavor(request, flavor_row, detail: bool = True) -> dict:
    """Return a flavor's view."""
    view = {
        "id": flavor_row.flavorid,
        "name": flavor_row.name,
        "links": links(request, "flavors", flavor_row.flavorid),
    }
    if detail:
        view.update(
            ram=flavor_row.memory_mb,
            vcpus=flavor_row.vcpus,
            disk=flavor_row.root_gb,
            swap="" if not flavor_row.swap else flavor_row.swap,
            rxtx_factor=1.0,
            **{
                "OS-FLV-EXT-DATA:ephemeral": flavor_row.ephemeral_gb,
                "OS-FLV-DISABLED:disabled": flavor_row.disabled,
                "os-flavor-access:is_public": flavor_row.is_public,
            },
        )
    return view


def server_summary(request, instance) -> dict:
    """Return a server as list items show it."""
    return {
        "id": instance.uuid,
        "name": instance.display_name,
        "links": links(request, "servers", instance.uuid),
    }


def server_detail(request, instance, data: dict, extensions) -> dict:
    """Return a server's full view.

    :param data: flavors, faults, addresses and metadata, from ``API.get_view_data``.
    """
    context = request.context
    flavor_row = data["flavors"].get(instance.flavor_id)
    flavor_id = flavor_row.flavorid if flavor_row else str(instance.flavor_id)
    addresses: dict[str, list[dict]] = {}
    for label, address, mac in data["addresses"].get(instance.id, []):
        addresses.setdefault(label, []).append(
            {
                "version": 6 if ":" in address else 4,
                "addr": address,
                "OS-EXT-IPS:type": "fixed",
                "OS-EXT-IPS-MAC:mac_addr": mac,
            }
        )
    view = {
        "id": instance.uuid,
        "name": instance.display_name,
        "status": vm_states.status(instance.vm_state),
        "tenant_id": instance.project_id,
        "user_id": instance.user_id,
        "metadata": data["metadata"].get(instance.id, {}),
        "hostId": host_id(instance),
        "image": {
            "id": instance.image_ref,
            "links": [
                {"rel": "bookmark", "href": f"{request.host_url}/images/{instance.image_ref}"}
            ],
        },
        "flavor": {
            "id": flavor_id,
            "links": [{"rel": "bookmark", "href": f"{request.host_url}/flavors/{flavor_id}"}],
        },
        "created": isotime(instance.created_at),
        "updated": isotime(instance.updated_at or instance.created_at),
        "addresses": addresses,
        "accessIPv4": "",
        "accessIPv6": "",
        "links": links(request, "servers", instance.uuid),
        "progress": 100 if instance.vm_state == vm_states.ACTIVE else 0,
        "key_name": None,
        "config_drive": "",
        "security_groups": [{"name": "default"}],
        "OS-DCF:diskConfig": "MANUAL",
        "OS-EXT-AZ:availability_zone": instance.availability_zone or "nova",
        "OS-EXT-STS:vm_state": instance.vm_state,
        "OS-EXT-STS:task_state": instance.task_state,
        "OS-EXT-STS:power_state": 1 if instance.vm_state == vm_states.ACTIVE else 0,
        "OS-SRV-USG:launched_at": isotime(instance.launched_at),
        "OS-SRV-USG:terminated_at": isotime(instance.terminated_at),
        "os-extended-volumes:volumes_attached": [],
    }
    if policy.check(context, "servers:show:host_status"):
        view["OS-EXT-SRV-ATTR:host"] = instance.host
    fault = data["faults"].get(instance.id)
    if fault is not None and instance.vm_state == vm_states.ERROR:
        view["fault"] = {
            "code": fault.code,
            "message": fault.message,
            "created": isotime(fault.created_at),
        }
        if fault.details and policy.check(context, "servers:show:fault_details"):
            view["fault"]["details"] = fault.details
    for extension in extensions:
        extension.extend_server_view(request, instance, view)
    return view
