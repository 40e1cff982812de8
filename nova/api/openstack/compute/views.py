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
    """Return the self and bookmark links of an item (with the URL's project segment, if any)."""
    return _links(request.endpoint + request.project_segment, request.endpoint, collection, item_id)


def _links(bookmark_base: str, endpoint: str, collection: str, item_id: str) -> list[dict]:
    # Nova's: self under the version, bookmark without it; both keep the
    # project segment the request had (bookmark_base = endpoint + segment).
    segment = bookmark_base[len(endpoint) :]
    return [
        {"rel": "self", "href": f"{endpoint}/v2.1{segment}/{collection}/{item_id}"},
        {"rel": "bookmark", "href": f"{bookmark_base}/{collection}/{item_id}"},
    ]


def collection_url(request, path: str) -> str:
    """Return the URL of ``path`` (``servers/detail``) under the version and project segment."""
    return f"{request.endpoint}/v2.1{request.project_segment}/{path}"


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
    endpoint = request.endpoint
    bookmark_base = endpoint + request.project_segment
    return [
        {
            "id": instance.uuid,
            "name": instance.display_name,
            "links": _links(bookmark_base, endpoint, "servers", instance.uuid),
        }
        for instance in data.instances
    ]


#: Nova's statuses whose servers show ``progress``; those in ERROR or DELETED show their fault.
_PROGRESS_STATUSES = frozenset(
    {"ACTIVE", "BUILD", "REBUILD", "RESIZE", "VERIFY_RESIZE", "MIGRATING"}
)
_FAULT_STATUSES = frozenset({"ERROR", "DELETED"})


def instance_name(instance) -> str:
    """Return the name of an instance on its hypervisor (Nova's ``instance-%08x``).

    The libvirt driver names its domains the same way (``nova.virt.libvirt.vif``,
    which the API may not import).
    """
    return f"instance-{instance.id:08x}"


def security_groups(names: str | None) -> list[dict]:
    """Return Nova's ``security_groups`` of a server: each name asked for once, else default."""
    unique = dict.fromkeys(names.split("\n")) if names else {"default": None}
    return [{"name": name} for name in unique]


def server_details(request, data, extensions, extended: bool = True) -> list[dict]:
    """Return the full views of the servers of ``data`` (from ``API.get_*_for_view``).

    :param extended: with the keys of Nova 2.1's extensions (``OS-EXT-*``,
        ``key_name``, ``security_groups``, ...); without, the shape of Nova's
        update response before 2.75.
    """
    context = request.context
    endpoint = request.endpoint
    bookmark_base = endpoint + request.project_segment
    show_host = extended and policy.check(context, "os_compute_api:servers:show:host_status")
    # As Nova: a 500 fault's details (the error's text) only for admins.
    show_fault_details = context.is_admin
    views = []
    for instance in data.instances:
        flavor_id = instance.flavorid if instance.flavorid is not None else str(instance.flavor_id)
        active = instance.vm_state == vm_states.ACTIVE
        status = vm_states.status(instance.vm_state)
        view = {
            "id": instance.uuid,
            "name": instance.display_name,
            "status": status,
            "tenant_id": instance.project_id or "",
            "user_id": instance.user_id or "",
            "metadata": data.metadata.get(instance.id, {}),
            "hostId": host_id(instance),
            "image": {
                "id": instance.image_ref,
                "links": [
                    {"rel": "bookmark", "href": f"{bookmark_base}/images/{instance.image_ref}"}
                ],
            },
            "flavor": {
                "id": flavor_id,
                "links": [{"rel": "bookmark", "href": f"{bookmark_base}/flavors/{flavor_id}"}],
            },
            "created": isotime(instance.created_at),
            "updated": isotime(instance.updated_at or instance.created_at),
            "addresses": addresses(data.addresses.get(instance.id, ())),
            "accessIPv4": instance.access_ip_v4 or "",
            "accessIPv6": instance.access_ip_v6 or "",
            "links": _links(bookmark_base, endpoint, "servers", instance.uuid),
            "OS-DCF:diskConfig": "AUTO" if instance.auto_disk_config else "MANUAL",
        }
        if status in _PROGRESS_STATUSES:
            view["progress"] = 0  # no operation here reports progress
        if extended:
            view.update(
                {
                    "key_name": instance.key_name,
                    "config_drive": instance.config_drive or "",
                    "security_groups": security_groups(instance.security_groups),
                    "OS-EXT-AZ:availability_zone": instance.availability_zone or "nova",
                    "OS-EXT-STS:vm_state": instance.vm_state,
                    "OS-EXT-STS:task_state": instance.task_state,
                    "OS-EXT-STS:power_state": 1 if active else 0,
                    "OS-SRV-USG:launched_at": usage_time(instance.launched_at),
                    "OS-SRV-USG:terminated_at": usage_time(instance.terminated_at),
                    "os-extended-volumes:volumes_attached": [],
                }
            )
        if show_host:
            # Nova's extended server attributes (2.1: host, instance name, node);
            # a host here has one node, named as the host.
            view["OS-EXT-SRV-ATTR:host"] = instance.host
            view["OS-EXT-SRV-ATTR:hypervisor_hostname"] = instance.host
            view["OS-EXT-SRV-ATTR:instance_name"] = instance_name(instance)
        if instance.fault_code is not None and status in _FAULT_STATUSES:
            view["fault"] = {
                "code": instance.fault_code,
                "message": instance.fault_message,
                "created": isotime(instance.fault_created_at),
            }
            if instance.fault_details and show_fault_details:
                view["fault"]["details"] = instance.fault_details
        if extended:
            for extension in extensions:
                extension.extend_server_view(request, instance, view)
        views.append(view)
    return views
