"""The image interface the API and compute hosts use (``[image] backend``).

``API`` picks the backend from the configuration: Glance v2
(``nova.image.glance``), the local store (``nova.image.local``), or none,
the embedded default, where ``imageRef`` is free-form and nothing is
checked or fetched (``is_configured()`` is False).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from collections.abc import Mapping

from oslo_config import cfg

import nova.conf
from nova import context as nova_context
from nova import exception
from nova.image import cache as image_cache
from nova.image import glance
from nova.image import local


def backend_name(conf: cfg.ConfigOpts) -> str:
    """Return the configured backend: ``glance``, ``local`` or ``none`` (``auto`` resolved)."""
    name = conf.image.backend
    if name == "auto":
        return "glance" if conf.glance.api_servers else "none"
    return name


class API:
    """Show, list, delete and fetch the images of the configured image service."""

    def __init__(self, conf: cfg.ConfigOpts = nova.conf.CONF) -> None:
        self.conf = conf
        self._backend: glance.GlanceImageService | local.LocalImageStore | None = None
        self._cache: image_cache.ImageCache | None = None

    def backend_name(self) -> str:
        """Return the configured backend: ``glance``, ``local`` or ``none``."""
        return backend_name(self.conf)

    def is_configured(self) -> bool:
        """True when an image service (Glance or the local store) is configured.

        False: ``imageRef`` is free-form as before (the embedded default).
        """
        return backend_name(self.conf) != "none"

    @property
    def backend(self) -> glance.GlanceImageService | local.LocalImageStore:
        """The image service (made on first use, from the configuration).

        :raises nova.exception.ImageNotFound: none is configured (no image can be found).
        """
        if self._backend is None:
            name = backend_name(self.conf)
            if name == "glance":
                self._backend = glance.GlanceImageService(
                    self.conf.glance.api_servers,
                    self.conf.glance.timeout,
                    self.conf.glance.num_retries,
                )
            elif name == "local":
                self._backend = local.LocalImageStore(self.conf.image.local_store_path)
            else:
                raise exception.ImageNotFound(image_id="(no image service is configured)")
        return self._backend

    @property
    def cache(self) -> image_cache.ImageCache:
        """This host's image cache (``[image] cache_dir``)."""
        if self._cache is None:
            self._cache = image_cache.ImageCache(self.conf.image.cache_dir)
        return self._cache

    def show(self, context: nova_context.RequestContext, image_id: str) -> dict:
        """The image as Glance v2 shows it.

        Keys: id, name, status, visibility, disk_format, container_format,
        size, checksum, os_hash_algo, os_hash_value, min_ram, min_disk, and
        every custom property (kernel_id, ramdisk_id, os_command_line,
        hw_*, ...) as a top-level key.

        :raises nova.exception.ImageNotFound: no such image (or not visible
            to context; or no image service configured).
        :raises nova.exception.ImageServiceUnavailable: Glance cannot be reached.
        """
        try:
            image_cache.check_id(image_id)
        except exception.InvalidImageRef:
            raise exception.ImageNotFound(image_id=image_id) from None
        try:
            return self.backend.show(context, image_id)
        except exception.ImageNotAuthorized:
            raise exception.ImageNotFound(image_id=image_id) from None

    def get_all(
        self,
        context: nova_context.RequestContext,
        filters: Mapping[str, str] | None = None,
        limit: int | None = None,
        marker: str | None = None,
    ) -> list[dict]:
        """Return the images the caller may see (none without an image service).

        :param filters: ``name``, ``status`` (Glance's lower-case statuses).
        :raises nova.exception.ImageNotFound: ``marker`` is not an image.
        """
        if not self.is_configured():
            if marker is not None:
                raise exception.ImageNotFound(image_id=marker)
            return []
        return self.backend.get_all(context, filters, limit=limit, marker=marker)

    def delete(self, context: nova_context.RequestContext, image_id: str) -> None:
        """Delete an image in the image service.

        :raises nova.exception.ImageNotFound: no such image.
        :raises nova.exception.ImageNotAuthorized: the caller may not delete it.
        """
        try:
            image_cache.check_id(image_id)
        except exception.InvalidImageRef:
            raise exception.ImageNotFound(image_id=image_id) from None
        self.backend.delete(context, image_id)

    def download(self, context: nova_context.RequestContext, image_id: str) -> Iterator[bytes]:
        """Yield an image's data from the image service (not cached).

        :raises nova.exception.ImageNotFound: no such image.
        """
        return self.backend.download(context, image_id)

    def fetch(self, context: nova_context.RequestContext, image_id: str) -> str:
        """Absolute path of the image's bits in this host's image cache.

        ``[image] cache_dir``/<id> (by default ``$state_path/images/_base/<id>``):
        downloaded once even when several boots ask at the same time (across
        threads and processes), checksum verified (a mismatch raises and
        leaves no file).

        :raises nova.exception.ImageNotFound: no such image.
        :raises nova.exception.ImageNotActive: it has no data yet (not active).
        :raises nova.exception.ImageChecksumMismatch: the data did not match.
        """
        image = self.show(context, image_id)
        if image.get("status") != "active":
            raise exception.ImageNotActive(image_id=image_id)
        path = self.cache.fetch(image, lambda: self.backend.download(context, image_id))
        return os.path.abspath(path)
