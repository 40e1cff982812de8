"""Version documents at ``/`` and ``/v2.1`` (how clients discover the API)."""

from __future__ import annotations

VERSION = {
    "id": "v2.1",
    "status": "CURRENT",
    "version": "2.1",
    "min_version": "2.1",
    "updated": "2013-07-23T11:33:21Z",
}


def _version(request) -> dict:
    return {
        **VERSION,
        "links": [
            {"rel": "self", "href": f"{request.endpoint}/v2.1/"},
            {
                "rel": "describedby",
                "type": "text/html",
                "href": "https://docs.openstack.org/",
            },
        ],
        "media-types": [
            {
                "base": "application/json",
                "type": "application/vnd.openstack.compute+json;version=2.1",
            }
        ],
    }


class VersionsController:
    def versions(self, request):
        return 200, {"versions": [_version(request)]}

    def version(self, request):
        return 200, {"version": _version(request)}
