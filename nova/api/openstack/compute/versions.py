"""Version documents at ``/`` and ``/v2.1`` (how clients discover the API).

As Nova's: the list names v2.1 (with the microversions claimed, see
``nova.api.openstack.api_version``) and the deprecated v2.0; each entry of
the list has its self link, the document of one version adds the
documentation link and the media type.
"""

from __future__ import annotations

from nova.api.openstack import api_version

VERSION = {
    "id": "v2.1",
    "status": "CURRENT",
    "version": str(api_version.MAX_VERSION),
    "min_version": str(api_version.MIN_VERSION),
    "updated": "2013-07-23T11:33:21Z",
}
# Nova still lists its legacy v2 API (deprecated) beside v2.1.
_V20 = {
    "id": "v2.0",
    "status": "DEPRECATED",
    "version": "",
    "min_version": "",
    "updated": "2025-07-04T12:00:00Z",
}
_PATHS = {"v2.0": "v2", "v2.1": "v2.1"}


def _self_link(request, version: dict) -> dict:
    return {"rel": "self", "href": f"{request.endpoint}/{_PATHS[version['id']]}/"}


def _version(request, version: dict, media_version: str) -> dict:
    return {
        **version,
        "links": [
            _self_link(request, version),
            {
                "rel": "describedby",
                "type": "text/html",
                "href": "http://docs.openstack.org/",
            },
        ],
        "media-types": [
            {
                "base": "application/json",
                "type": f"application/vnd.openstack.compute+json;version={media_version}",
            }
        ],
    }


class VersionsController:
    def versions(self, request):
        return 200, {
            "versions": [
                {**version, "links": [_self_link(request, version)]} for version in (_V20, VERSION)
            ]
        }

    def version(self, request):
        return 200, {"version": _version(request, VERSION, "2.1")}

    def version_v20(self, request):
        """The document of Nova's deprecated v2.0 (listed; only this document is served)."""
        return 200, {"version": _version(request, _V20, "2")}
