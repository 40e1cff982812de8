"""``/images``: Nova 2.1's (deprecated) proxy of the image service, in Nova's format.

Old clients (novaclient's ``--image NAME``) resolve image names here. The
answers are Nova's (``images-list-get-resp.json``, ``image-get-resp.json``):
``minRam``/``minDisk``, Nova's statuses and progress, the image's custom
properties as ``metadata``. Without an image service (``[image] backend =
none``) the list is empty and every image is 404.
"""

from __future__ import annotations

import datetime
import urllib.parse

from oslo_utils import strutils

from nova import exception
from nova.api.openstack import policy
from nova.api.openstack import wsgi
from nova.api.openstack.compute import views
from nova.api.openstack.schemas import images as schema

#: Glance v2 statuses -> Nova's (others: UNKNOWN), and the progress Nova shows.
_STATUS = {
    "active": "ACTIVE",
    "queued": "SAVING",
    "saving": "SAVING",
    "deleted": "DELETED",
    "pending_delete": "DELETED",
    "killed": "ERROR",
}
_PROGRESS = {"queued": 25, "saving": 50, "active": 100}
#: Glance v2's own keys: the others of an image are its properties (Nova's ``metadata``).
_CORE_KEYS = frozenset(
    {"id", "name", "status", "visibility", "protected", "checksum", "owner", "size",
     "virtual_size", "container_format", "disk_format", "created_at", "updated_at",
     "tags", "direct_url", "min_ram", "min_disk", "self", "file", "schema", "locations",
     "os_hash_algo", "os_hash_value", "os_hidden", "stores", "first", "next"}
)  # fmt: skip


def _time(value) -> str | None:
    """Return Glance's time as Nova writes it (``2011-01-01T01:02:03Z``)."""
    if not value:
        return None
    try:
        parsed = datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    return parsed.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ImagesController:
    #: The query schema of each action (also read by the OpenAPI description).
    query_schemas = {"index": schema.index_query, "detail": schema.index_query}

    def __init__(self, compute_api, max_limit: int = 1000) -> None:
        self.compute_api = compute_api
        self.max_limit = max_limit

    def _links(self, request, image_id: str) -> list[dict]:
        links = views.links(request, "images", image_id)
        glance = self.compute_api.image.conf.glance.api_servers
        if self.compute_api.image.backend_name() == "glance" and glance:
            # Nova's third link: the image in the image service itself.
            links.append(
                {
                    "rel": "alternate",
                    "type": "application/vnd.openstack.image",
                    "href": f"{glance[0].rstrip('/')}/images/{image_id}",
                }
            )
        return links

    def _detail(self, request, image: dict) -> dict:
        status = str(image.get("status") or "")
        view = {
            "id": image["id"],
            "name": image.get("name"),
            "minRam": int(image.get("min_ram") or 0),
            "minDisk": int(image.get("min_disk") or 0),
            "metadata": {
                key: value if isinstance(value, str) else str(value)
                for key, value in image.items()
                if key not in _CORE_KEYS
            },
            "created": _time(image.get("created_at")),
            "updated": _time(image.get("updated_at")),
            "status": _STATUS.get(status, "UNKNOWN"),
            "progress": _PROGRESS.get(status, 0),
            "links": self._links(request, image["id"]),
            "OS-EXT-IMG-SIZE:size": image.get("size"),
        }
        if "auto_disk_config" in image:
            # Nova's disk config extension reads the image's auto_disk_config property.
            auto = strutils.bool_from_string(str(image["auto_disk_config"]))
            view["OS-DCF:diskConfig"] = "AUTO" if auto else "MANUAL"
        server = image.get("instance_uuid")
        if isinstance(server, str) and server:
            view["server"] = {"id": server, "links": views.links(request, "servers", server)}
        return view

    def _list(self, request, detail: bool):
        context = request.context
        query = wsgi.validate_query(request, schema.index_query)
        filters = {key: query[key] for key in ("name",) if query.get(key)}
        if query.get("status"):
            filters["status"] = query["status"].lower()
        limit = min(int(query.get("limit", self.max_limit)), self.max_limit)
        try:
            images = self.compute_api.get_images(
                context, filters, limit=limit, marker=query.get("marker")
            )
        except exception.ImageNotFound as exc:
            raise exception.MarkerNotFound(marker=query.get("marker")) from exc
        if detail:
            body: dict = {"images": [self._detail(request, image) for image in images]}
        else:
            body = {
                "images": [
                    {
                        "id": image["id"],
                        "name": image.get("name"),
                        "links": self._links(request, image["id"]),
                    }
                    for image in images
                ]
            }
        if images and len(images) == limit:
            params = [(k, v) for k, v in request.GET.items() if k != "marker"]
            params.append(("marker", images[-1]["id"]))
            path = "images/detail" if detail else "images"
            body["images_links"] = [
                {
                    "rel": "next",
                    "href": f"{views.collection_url(request, path)}?"
                    + urllib.parse.urlencode(params),
                }
            ]
        return 200, body

    def index(self, request):
        return self._list(request, detail=False)

    def detail(self, request):
        return self._list(request, detail=True)

    def show(self, request, image_id):
        try:
            image = self.compute_api.get_image(request.context, image_id)
        except exception.ImageNotFound as exc:
            raise exception.NotFound("Image not found.") from exc
        return 200, {"image": self._detail(request, image)}

    def delete(self, request, image_id):
        context = request.context
        if self.compute_api.image.backend_name() == "local":
            # The local store has no owners: its images are the cloud's.
            # (Nova itself has no image rule: Glance decides.)
            policy.authorize(context, "os_compute_api:images:local:delete")
        try:
            self.compute_api.delete_image(context, image_id)
        except exception.ImageNotFound as exc:
            raise exception.NotFound("Image not found.") from exc
        except exception.ImageNotAuthorized as exc:
            raise exception.PolicyNotAuthorized("Unable to delete image") from exc
        return 204, None
