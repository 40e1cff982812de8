"""``/extensions``: the loaded API extensions."""

from __future__ import annotations

from nova import exception
from nova.api.openstack import policy


class ExtensionsController:
    def __init__(self, manager) -> None:
        self.manager = manager

    def index(self, request):
        policy.authorize(request.context, "os_compute_api:extensions")
        return 200, {"extensions": [e.to_dict() for e in self.manager]}

    def show(self, request, alias):
        policy.authorize(request.context, "os_compute_api:extensions")
        extension = self.manager.extensions.get(alias)
        if extension is None:
            raise exception.NotFound(f"Extension {alias} could not be found.")
        return 200, {"extension": extension.to_dict()}
