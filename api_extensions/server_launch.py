"""os-server-launch: define a server without launching it, then launch it."""

from __future__ import annotations

from nova.api.openstack import extensions
from nova.api.openstack import policy
from nova.api.openstack import wsgi

_NO_ARGUMENT = {"type": "null"}


class ServerLaunch(extensions.ExtensionDescriptor):
    """``"launch": false`` on create stores the server DEFINED; the ``launch`` action starts it."""

    name = "ServerLaunch"
    alias = "os-server-launch"
    namespace = "http://docs.openstack.org/compute/ext/server_launch/api/v1.1"
    updated = "2011-09-01T00:00:00Z"
    description = (
        'Split server create into define and launch: with "launch": false the '
        "server is stored as DEFINED with its NICs and port attachments; "
        'POST /servers/{id}/action {"launch": null} hands it to the scheduler.'
    )

    def get_server_create_schema(self):
        return {"launch": {"type": "boolean"}}

    def get_server_create_kwargs(self, server):
        return {"launch": server.get("launch", True)}

    def get_server_actions(self):
        return {"launch": self.launch}

    def get_server_action_schemas(self):
        return {"launch": _NO_ARGUMENT}

    def launch(self, request, server_id, argument):
        """Launch a DEFINED server: 202, or 409 naming its state."""
        policy.authorize(request.context, "os_compute_api:os-server-launch:launch")
        wsgi.validate(argument, _NO_ARGUMENT, "launch")
        self.compute_api.launch(request.context, server_id)
        return 202, None
