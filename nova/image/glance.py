"""A Glance v2 image service, called over HTTP (``[glance]`` options).

With ``[glance] api_servers`` the endpoints are those; without, the
``image`` endpoint of the caller's service catalog (keystone). The
caller's token goes with every request (``X-Auth-Token``), so Glance shows
what that user may see. A connection that cannot be made is retried on the
next endpoint (``num_retries``); a request Glance received is not repeated.
"""

from __future__ import annotations

import logging
import urllib.parse
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any

import requests

from nova import context as nova_context
from nova import exception

LOG = logging.getLogger(__name__)

#: Bytes per piece of a download.
CHUNK_SIZE = 64 * 1024


def catalog_endpoints(context: nova_context.RequestContext) -> list[str]:
    """Return the ``image`` endpoints of the context's service catalog (public first)."""
    urls: list[str] = []
    for service in getattr(context, "service_catalog", None) or ():
        if service.get("type") != "image":
            continue
        endpoints = sorted(
            service.get("endpoints", ()), key=lambda e: e.get("interface") != "public"
        )
        for endpoint in endpoints:
            url = endpoint.get("url") or endpoint.get("publicURL")
            if url:
                urls.append(url)
    return urls


class GlanceImageService:
    """Glance v2's images: show, list, download, delete."""

    name = "glance"

    def __init__(self, api_servers: Sequence[str], timeout: float, num_retries: int) -> None:
        self.api_servers = [url.rstrip("/") for url in api_servers if url.strip()]
        self.timeout = timeout
        self.num_retries = num_retries
        self.session = requests.Session()
        self.session.trust_env = False  # loopback test servers, no proxies
        self.session.headers.update({"User-Agent": "nova", "Accept": "application/json"})
        self._next = 0

    def _endpoints(self, context: nova_context.RequestContext) -> list[str]:
        urls = self.api_servers or [url.rstrip("/") for url in catalog_endpoints(context)]
        if not urls:
            raise exception.ImageServiceUnavailable(
                url="(none)",
                reason="no [glance] api_servers and no image endpoint in the service catalog",
            )
        # Start where the last call succeeded: an unreachable server is tried last.
        start = self._next % len(urls)
        return urls[start:] + urls[:start]

    def _request(
        self,
        context: nova_context.RequestContext,
        method: str,
        path: str,
        image_id: str | None = None,
        params: Mapping[str, Any] | None = None,
        stream: bool = False,
    ) -> requests.Response:
        """Send a request; return the response of a 2xx answer.

        :raises nova.exception.ImageNotFound: 404 (with ``image_id``).
        :raises nova.exception.ImageNotAuthorized: 403 (with ``image_id``).
        :raises nova.exception.ImageServiceUnavailable: no endpoint could be reached.
        :raises nova.exception.ImageServiceError: any other failure answer.
        """
        headers = {}
        token = getattr(context, "auth_token", None)
        if token:
            headers["X-Auth-Token"] = token
        if context.request_id:
            headers["X-Openstack-Request-Id"] = context.request_id
        endpoints = self._endpoints(context)
        attempts = self.num_retries + 1
        last_error: Exception | None = None
        url = endpoints[0]
        for attempt in range(attempts):
            url = endpoints[attempt % len(endpoints)]
            try:
                response = self.session.request(
                    method,
                    url + path,
                    params=params,
                    headers=headers,
                    timeout=self.timeout,
                    stream=stream,
                )
                break
            except (requests.ConnectionError, requests.Timeout) as exc:
                LOG.warning("Glance at %s: %s (attempt %d of %d)", url, exc, attempt + 1, attempts)
                last_error = exc
                self._next += 1
        else:
            raise exception.ImageServiceUnavailable(url=url, reason=str(last_error))
        if response.status_code < 300:
            return response
        reason = response.text[:500].strip()
        response.close()
        if image_id is not None and response.status_code == 404:
            raise exception.ImageNotFound(image_id=image_id)
        if image_id is not None and response.status_code == 403:
            raise exception.ImageNotAuthorized(image_id=image_id)
        if response.status_code == 503:
            raise exception.ImageServiceUnavailable(url=url, reason=reason)
        raise exception.ImageServiceError(
            status=response.status_code, method=method, path=path, reason=reason
        )

    @staticmethod
    def _path(image_id: str, suffix: str = "") -> str:
        return "/v2/images/" + urllib.parse.quote(image_id, safe="") + suffix

    def show(self, context: nova_context.RequestContext, image_id: str) -> dict:
        """Return Glance's image record (custom properties are top-level keys).

        :raises nova.exception.ImageNotFound: no such image visible to the caller.
        """
        return self._request(context, "GET", self._path(image_id), image_id=image_id).json()

    def get_all(
        self,
        context: nova_context.RequestContext,
        filters: Mapping[str, str] | None = None,
        limit: int | None = None,
        marker: str | None = None,
    ) -> list[dict]:
        """Return the images Glance lists for the caller (``name``, ``status`` filters).

        :raises nova.exception.ImageNotFound: ``marker`` is not an image.
        """
        params: dict[str, Any] = dict(filters or {})
        if limit is not None:
            params["limit"] = limit
        if marker is not None:
            params["marker"] = marker
        images: list[dict] = []
        path: str | None = "/v2/images"
        while path is not None:
            try:
                body = self._request(context, "GET", path, params=params).json()
            except exception.ImageServiceError as exc:
                if marker is not None and exc.kwargs.get("status") == 400:
                    raise exception.ImageNotFound(image_id=marker) from exc
                raise
            images.extend(body.get("images", ()))
            if limit is not None and len(images) >= limit:
                return images[:limit]
            # Glance pages (25 by default): "next" holds the query of the next page.
            following = body.get("next")
            if not following:
                break
            parsed = urllib.parse.urlsplit(following)
            path, params = parsed.path, dict(urllib.parse.parse_qsl(parsed.query))
        return images

    def download(self, context: nova_context.RequestContext, image_id: str) -> Iterator[bytes]:
        """Yield the image's data in pieces.

        :raises nova.exception.ImageNotFound: no such image.
        :raises nova.exception.ImageUnacceptable: it has no data.
        """
        response = self._request(
            context, "GET", self._path(image_id, "/file"), image_id=image_id, stream=True
        )
        if response.status_code == 204:
            response.close()
            raise exception.ImageUnacceptable(image_id=image_id, reason="it has no data")
        try:
            yield from response.iter_content(CHUNK_SIZE)
        except requests.RequestException as exc:
            raise exception.ImageServiceUnavailable(url=response.url, reason=str(exc)) from exc
        finally:
            response.close()

    def delete(self, context: nova_context.RequestContext, image_id: str) -> None:
        """Delete an image.

        :raises nova.exception.ImageNotFound: no such image.
        :raises nova.exception.ImageNotAuthorized: the caller may not delete it.
        """
        self._request(context, "DELETE", self._path(image_id), image_id=image_id)
