"""A read-only image catalog in Glance v2's format, for ``openstack server create --image``.

This cloud has no image service: nova-all takes ``imageRef`` as given (the
test driver boots nothing). python-openstackclient resolves ``--image``
through the Image API before it calls Nova, so the suite serves it the
catalog a Glance would answer for one image (``GET /``, ``GET /v2/images``,
``GET /v2/images/{id}``), read-only, on a loopback port. Nova never calls it.
"""

from __future__ import annotations

import http.server
import json
import threading
import urllib.parse

IMAGE_ID = "a8a2d9b6-1b9c-4a8e-9d1e-5f0c9f3c2b11"
IMAGE_NAME = "cirros"


class ImageCatalog:
    """The catalog on ``self.url`` (``http://127.0.0.1:PORT``) until ``close()``."""

    def __init__(self) -> None:
        catalog = self
        self.image = {
            "id": IMAGE_ID,
            "name": IMAGE_NAME,
            "status": "active",
            "visibility": "public",
            "disk_format": "qcow2",
            "container_format": "bare",
            "min_disk": 0,
            "min_ram": 0,
            "size": 21430272,
            "tags": [],
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z",
            "self": f"/v2/images/{IMAGE_ID}",
            "file": f"/v2/images/{IMAGE_ID}/file",
            "schema": "/v2/schemas/image",
        }

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                parsed = urllib.parse.urlsplit(self.path)
                path = parsed.path.rstrip("/")
                query = urllib.parse.parse_qs(parsed.query)
                if path in ("", "/v2"):
                    body: dict | None = {
                        "versions": [
                            {
                                "id": "v2.16",
                                "status": "CURRENT",
                                "links": [{"rel": "self", "href": f"{catalog.url}/v2/"}],
                            }
                        ]
                    }
                    status = 300 if path == "" else 200
                elif path == "/v2/images":
                    names = query.get("name")
                    images = [catalog.image] if not names or IMAGE_NAME in names else []
                    body, status = {"images": images, "schema": "/v2/schemas/images"}, 200
                elif path in (f"/v2/images/{IMAGE_ID}", f"/v2/images/{IMAGE_NAME}"):
                    body, status = (catalog.image, 200) if IMAGE_ID in path else (None, 404)
                else:
                    body, status = None, 404
                data = json.dumps(body or {"message": "Not found", "code": 404}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()
