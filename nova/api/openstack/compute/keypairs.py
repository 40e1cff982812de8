"""``/os-keypairs``: the caller's key pairs (Nova 2.1's formats and status codes).

Create imports ``public_key`` or generates a pair (the private key is in
that answer only); 200 on create and 202 on delete, as Nova 2.1 (2.2 made
them 201 and 204). Another user's key pair is 404.
"""

from __future__ import annotations

from nova.api.openstack import policy
from nova.api.openstack import wsgi
from nova.api.openstack.schemas import keypairs as schema
from nova.compute import keypairs as keypairs_api


def _summary(key_pair) -> dict:
    return {
        "name": key_pair.name,
        "public_key": key_pair.public_key,
        "fingerprint": key_pair.fingerprint,
    }


class KeypairController:
    #: The schemas of each action (also read by the OpenAPI description).
    query_schemas = {"index": schema.index_query}
    body_schemas = {"create": schema.create}
    #: Success status and whether it has a body, where not the usual (Nova 2.1's).
    success = {"create": (200, True), "delete": (202, False)}

    def __init__(self, api: keypairs_api.KeypairAPI | None = None) -> None:
        self.api = api or keypairs_api.KeypairAPI()

    def index(self, request):
        """List the caller's key pairs."""
        policy.authorize(request.context, "os_compute_api:os-keypairs:index")
        wsgi.validate_query(request, schema.index_query)
        return 200, {
            "keypairs": [{"keypair": _summary(k)} for k in self.api.get_all(request.context)]
        }

    def create(self, request, body):
        """Import a public key, or generate a key pair."""
        context = request.context
        policy.authorize(context, "os_compute_api:os-keypairs:create")
        values = wsgi.validate(body, schema.create)["keypair"]
        created = self.api.create(context, values["name"], values.get("public_key"))
        keypair = {**_summary(created.key_pair), "user_id": created.key_pair.user_id}
        if created.private_key is not None:
            keypair["private_key"] = created.private_key
        return 200, {"keypair": keypair}

    def show(self, request, keypair_name):
        """Show one of the caller's key pairs."""
        policy.authorize(request.context, "os_compute_api:os-keypairs:show")
        key_pair = self.api.get(request.context, keypair_name)
        return 200, {
            "keypair": {
                **_summary(key_pair),
                "user_id": key_pair.user_id,
                "id": key_pair.id,
                # Nova's form: ISO 8601 without an offset ("2014-05-07T12:06:13.681238").
                "created_at": key_pair.created_at and key_pair.created_at.isoformat(),
                "updated_at": key_pair.updated_at and key_pair.updated_at.isoformat(),
                "deleted_at": None,
                "deleted": False,
            }
        }

    def delete(self, request, keypair_name):
        """Delete one of the caller's key pairs."""
        policy.authorize(request.context, "os_compute_api:os-keypairs:delete")
        self.api.delete(request.context, keypair_name)
        return 202, None
