"""How servers and flavors look in the API (the public shapes clients rely on)."""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Iterable

from nova.api.openstack import policy
from nova.compute import vm_states


def isotime(value: datetime.datetime | None) -> str | None:
    """Return ``value`` as ``2011-08-17T12:00:00Z`` (None stays None)."""
    return value.isoformat(timespec="seconds") + "Z" if value else None


def usage_time(value: datetime.datetime | None) -> str | None:
    """Return ``value`` as Nova's ``OS-SRV-USG`` times: ``2011-08-17T12:00:00.123456`` (UTC)."""
    return value.isoformat(timespec="microseconds") if value else None


def links(request, collection: str, item_id: str) -> list[dict]:
    """Return the self and bookmark links of an item."""
    return _links(request.endpoint, collection, item_id)


def _links(host_url: str, collection: str, item_id: str) -> list[dict]:
    return [
        {"rel": "self", "href": f"{host_url}/v2.1/{collection}/{item_id}"},
        {"rel": "bookmark", "href": f"{host_url}/{collection}/{item_id}"},
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
            rxtx_factor=flavor_row.rxtx_factor,
            **{
                "OS-FLV-EXT-DATA:ephemeral": flavor_row.ephemeral_gb,
                "OS-FLV-DISABLED:disabled": flavor_row.disabled,
                "os-flavor-access:is_public": flavor_row.is_public,
            },
        )
    return view


def addresses(fixed: Iterable[tuple[str, str, str]]) -> dict[str, list[dict]]:
    """Return a server's ``addresses``: ``{network label: [address, ...]}``.

    ``fixed`` holds ``(network label, address, MAC)`` in VIF order (the
    view data's ``addresses`` of one instance).
    """
    view: dict[str, list[dict]] = {}
    for label, address, mac in fixed:
        view.setdefault(label, []).append(
            {
                "version": 6 if ":" in address else 4,
                "addr": address,
                "OS-EXT-IPS:type": "fixed",
                "OS-EXT-IPS-MAC:mac_addr": mac,
            }
        )
    return view


def server_summaries(request, data) -> list[dict]:
    """Return the servers of ``data`` (from ``API.get_all_for_view``) as list items show them."""
    host_url = request.endpoint
    return [
        {
            "id": instance.uuid,
            "name": instance.display_name,
            "links": _links(host_url, "servers", instance.uuid),
        }
        for instance in data.instances
    ]


def server_details(request, data, extensions) -> list[dict]:
    """Return the full views of the servers of ``data`` (from ``API.get_*_for_view``)."""
    context = request.context
    host_url = request.endpoint
    show_host = policy.check(context, "servers:show:host_status")
    show_fault_details = policy.check(context, "servers:show:fault_details")
    views = []
    for instance in data.instances:
        flavor_id = instance.flavorid if instance.flavorid is not None else str(instance.flavor_id)
        active = instance.vm_state == vm_states.ACTIVE
        view = {
            "id": instance.uuid,
            "name": instance.display_name,
            "status": vm_states.status(instance.vm_state),
            "tenant_id": instance.project_id,
            "user_id": instance.user_id,
            "metadata": data.metadata.get(instance.id, {}),
            "hostId": host_id(instance),
            "image": {
                "id": instance.image_ref,
                "links": [{"rel": "bookmark", "href": f"{host_url}/images/{instance.image_ref}"}],
            },
            "flavor": {
                "id": flavor_id,
                "links": [{"rel": "bookmark", "href": f"{host_url}/flavors/{flavor_id}"}],
            },
            "created": isotime(instance.created_at),
            "updated": isotime(instance.updated_at or instance.created_at),
            "addresses": addresses(data.addresses.get(instance.id, ())),
            "accessIPv4": "",
            "accessIPv6": "",
            "links": _links(host_url, "servers", instance.uuid),
            "progress": 100 if active else 0,
            "key_name": None,
            "config_drive": "",
            "security_groups": [{"name": "default"}],
            "OS-DCF:diskConfig": "MANUAL",
            "OS-EXT-AZ:availability_zone": instance.availability_zone or "nova",
            "OS-EXT-STS:vm_state": instance.vm_state,
            "OS-EXT-STS:task_state": instance.task_state,
            "OS-EXT-STS:power_state": 1 if active else 0,
            "OS-SRV-USG:launched_at": usage_time(instance.launched_at),
            "OS-SRV-USG:terminated_at": usage_time(instance.terminated_at),
            "os-extended-volumes:volumes_attached": [],
        }
        if show_host:
            view["OS-EXT-SRV-ATTR:host"] = instance.host
        if instance.fault_code is not None:  # the newest fault, of an ERROR server only
            view["fault"] = {
                "code": instance.fault_code,
                "message": instance.fault_message,
                "created": isotime(instance.fault_created_at),
            }
            if instance.fault_details and show_fault_details:
                view["fault"]["details"] = instance.fault_details
        for extension in extensions:
            extension.extend_server_view(request, instance, view)
        views.append(view)
    return views
