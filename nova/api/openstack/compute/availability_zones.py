"""``/os-availability-zone[/detail]``: the availability zones, as Nova 2.1 lists them.

A zone is available while an enabled service is in it, unavailable while
all its services are disabled. The list (for everyone) leaves out the zone
of the internal services (``internal_service_availability_zone``); the
detail (admins only) shows every zone, and for each available one its hosts
and their enabled services.
"""

from __future__ import annotations

import nova.conf
from nova.api.openstack import policy
from nova.api.openstack.compute import views

CONF = nova.conf.CONF


def _zones(placed) -> tuple[list[str], list[str]]:
    """Return the sorted available and unavailable zones of ``(zone, service)`` pairs."""
    available = {zone for zone, service in placed if not service.disabled}
    unavailable = {zone for zone, service in placed if service.disabled} - available
    return sorted(available), sorted(unavailable)


class AvailabilityZoneController:
    """The availability zones."""

    def __init__(self, compute_api) -> None:
        self.compute_api = compute_api

    def index(self, request):
        """List the availability zones."""
        context = request.context
        policy.authorize(context, "os_compute_api:os-availability-zone:list")
        available, unavailable = _zones(self.compute_api.get_availability_zones(context))
        internal = CONF.internal_service_availability_zone
        info = [
            {"zoneName": zone, "zoneState": {"available": state}, "hosts": None}
            for zones, state in ((available, True), (unavailable, False))
            for zone in zones
            if zone != internal
        ]
        return 200, {"availabilityZoneInfo": info}

    def detail(self, request):
        """List the availability zones with their hosts and services (admins only)."""
        context = request.context
        policy.authorize(context, "os_compute_api:os-availability-zone:detail")
        placed = self.compute_api.get_availability_zones(context)
        available, unavailable = _zones(placed)
        hosts: dict[str, dict[str, dict]] = {}
        for zone, service in placed:
            if service.disabled:
                continue
            hosts.setdefault(zone, {}).setdefault(service.host, {})[service.binary] = {
                "available": self.compute_api.service_is_up(service),
                "active": not service.disabled,
                "updated_at": views.usage_time(service.updated_at),
            }
        info: list[dict] = [
            {"zoneName": zone, "zoneState": {"available": True}, "hosts": hosts.get(zone, {})}
            for zone in available
        ]
        info.extend(
            {"zoneName": zone, "zoneState": {"available": False}, "hosts": None}
            for zone in unavailable
        )
        return 200, {"availabilityZoneInfo": info}
