"""This cloud's own image store, for machines without Glance (``[image] backend = local``).

A directory (``[image] local_store_path``) holding, per image, ``<id>`` (the
data) and ``<id>.json`` (its record, in Glance v2's shape: the same keys
``show`` answers with for Glance, custom properties top-level). The record
is written last, by rename: an image is listed only once its data is
complete. ``nova-manage image import`` fills it; every image is public
and active.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import tempfile
import uuid
from collections.abc import Iterator
from collections.abc import Mapping

from nova import exception
from nova.image import cache as image_cache

#: Keys of a record that a ``--property`` may not set (Glance's reserved ones).
RESERVED_KEYS = frozenset(
    {"id", "name", "status", "visibility", "disk_format", "container_format", "size",
     "virtual_size", "checksum", "os_hash_algo", "os_hash_value", "created_at",
     "updated_at", "owner", "protected", "tags", "self", "file", "schema", "locations",
     "direct_url", "stores", "os_hidden"}
)  # fmt: skip
#: Glance's disk and container formats.
DISK_FORMATS = ("ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop")
CONTAINER_FORMATS = ("ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed")
_INT_KEYS = ("min_ram", "min_disk")


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class LocalImageStore:
    """Images in a directory: import, show, list, download, delete."""

    name = "local"

    def __init__(self, path: str) -> None:
        self.path = path

    def _data(self, image_id: str) -> str:
        image_cache.check_id(image_id)
        return os.path.join(self.path, image_id)

    def create(
        self,
        name: str,
        source: str,
        disk_format: str = "raw",
        container_format: str = "bare",
        properties: Mapping[str, str] | None = None,
    ) -> dict:
        """Copy the file ``source`` into the store as a new active image; return its record.

        ``properties`` become top-level keys (``min_ram``/``min_disk`` as integers).

        :raises nova.exception.Invalid: a format or property Glance would refuse.
        :raises OSError: ``source`` cannot be read.
        """
        if disk_format not in DISK_FORMATS:
            raise exception.Invalid(reason=f"disk_format must be one of {', '.join(DISK_FORMATS)}")
        if container_format not in CONTAINER_FORMATS:
            raise exception.Invalid(
                reason=f"container_format must be one of {', '.join(CONTAINER_FORMATS)}"
            )
        extra: dict[str, object] = {}
        for key, value in (properties or {}).items():
            if key in RESERVED_KEYS:
                raise exception.Invalid(reason=f"Property {key!r} is reserved")
            if key in _INT_KEYS:
                try:
                    extra[key] = int(value)
                except ValueError:
                    raise exception.Invalid(reason=f"{key} must be an integer") from None
                if extra[key] < 0:  # type: ignore[operator]
                    raise exception.Invalid(reason=f"{key} must not be negative")
            else:
                extra[key] = value
        os.makedirs(self.path, exist_ok=True)
        image_id = str(uuid.uuid4())
        md5 = hashlib.md5(usedforsecurity=False)
        sha512 = hashlib.sha512()
        size = 0
        fd, tmp = tempfile.mkstemp(prefix=f".{image_id}.part-", dir=self.path)
        try:
            with open(source, "rb") as reader, os.fdopen(fd, "wb") as writer:
                while chunk := reader.read(image_cache.CHUNK_SIZE):
                    md5.update(chunk)
                    sha512.update(chunk)
                    size += len(chunk)
                    writer.write(chunk)
                writer.flush()
                os.fsync(writer.fileno())
            os.chmod(tmp, 0o644)  # mkstemp's 0600: hypervisors read as other users
            os.rename(tmp, self._data(image_id))
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        now = _now()
        record = {
            "id": image_id,
            "name": name,
            "status": "active",
            "visibility": "public",
            "protected": False,
            "owner": None,
            "disk_format": disk_format,
            "container_format": container_format,
            "size": size,
            "virtual_size": None,
            "checksum": md5.hexdigest(),
            "os_hash_algo": "sha512",
            "os_hash_value": sha512.hexdigest(),
            "min_ram": 0,
            "min_disk": 0,
            "tags": [],
            "created_at": now,
            "updated_at": now,
            **extra,
        }
        fd, tmp = tempfile.mkstemp(prefix=f".{image_id}.json-", dir=self.path)
        with os.fdopen(fd, "w", encoding="utf-8") as writer:
            json.dump(record, writer, indent=1, sort_keys=True)
        os.chmod(tmp, 0o644)
        os.rename(tmp, self._data(image_id) + ".json")
        return record

    def show(self, context, image_id: str) -> dict:
        """Return an image's record.

        :raises nova.exception.ImageNotFound: no such image.
        """
        try:
            image_cache.check_id(image_id)
            with open(self._data(image_id) + ".json", encoding="utf-8") as reader:
                return json.load(reader)
        except (FileNotFoundError, exception.InvalidImageRef):
            raise exception.ImageNotFound(image_id=image_id) from None

    def get_all(
        self,
        context,
        filters: Mapping[str, str] | None = None,
        limit: int | None = None,
        marker: str | None = None,
    ) -> list[dict]:
        """Return the images (oldest first, then by id), filtered by ``name`` and ``status``.

        :raises nova.exception.ImageNotFound: ``marker`` is not an image.
        """
        images = []
        try:
            names = sorted(os.listdir(self.path))
        except FileNotFoundError:
            names = []
        for entry in names:
            if entry.endswith(".json") and not entry.startswith("."):
                try:
                    images.append(self.show(context, entry[: -len(".json")]))
                except exception.ImageNotFound:
                    continue  # deleted meanwhile
        images.sort(key=lambda image: (image.get("created_at") or "", image["id"]))
        if marker is not None:
            ids = [image["id"] for image in images]
            if marker not in ids:
                raise exception.ImageNotFound(image_id=marker)
            images = images[ids.index(marker) + 1 :]
        for key, value in (filters or {}).items():
            images = [image for image in images if str(image.get(key)) == value]
        return images if limit is None else images[:limit]

    def download(self, context, image_id: str) -> Iterator[bytes]:
        """Yield the image's data in pieces.

        :raises nova.exception.ImageNotFound: no such image.
        """
        self.show(context, image_id)
        try:
            reader = open(self._data(image_id), "rb")  # noqa: SIM115 - closed below
        except FileNotFoundError:
            raise exception.ImageNotFound(image_id=image_id) from None
        with reader:
            while chunk := reader.read(image_cache.CHUNK_SIZE):
                yield chunk

    def delete(self, context, image_id: str) -> None:
        """Delete an image (its record first: it is gone from listings at once).

        :raises nova.exception.ImageNotFound: no such image.
        """
        self.show(context, image_id)
        for path in (self._data(image_id) + ".json", self._data(image_id)):
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
