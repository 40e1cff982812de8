"""The per-host image cache: an image's bits, downloaded once and verified.

Layout of the cache directory (``[image] cache_dir``, by default
``$state_path/images/_base``):

* ``<image id>``: the image's data, complete and verified; it appears
  there only by ``rename`` after the checksum matched, so a reader never
  sees a partial file;
* ``.<image id>.part-<random>``: a download in progress (removed when it
  fails, and by the next fetch of that image when its process died);
* ``.locks/<image id>``: the lock file; ``fcntl.flock`` on it serializes the
  fetches of one image across threads (each opens its own descriptor) and
  processes, so concurrent boots download it once.

The checksum is Glance's multihash (``os_hash_algo``/``os_hash_value``),
else its MD5 ``checksum``; a size is checked too when the image has one. A
mismatch raises and leaves no file behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import hashlib
import logging
import os
import re
import tempfile
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator

from nova import exception

LOG = logging.getLogger(__name__)

#: Bytes per read or write.
CHUNK_SIZE = 64 * 1024
#: What an image id may look like to become a file name (Glance's are UUIDs).
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,254}$")


def check_id(image_id: str) -> None:
    """Refuse an id that is not a plain file name (``/``, ``..``, dots, control characters).

    :raises nova.exception.InvalidImageRef: it is not.
    """
    if not isinstance(image_id, str) or not _ID.match(image_id):
        raise exception.InvalidImageRef()


def _hasher(image: dict):
    """Return ``(algorithm name, hash object, expected hex digest)``, or None without a checksum."""
    algorithm, value = image.get("os_hash_algo"), image.get("os_hash_value")
    if algorithm and value:
        try:
            return algorithm, hashlib.new(algorithm), value
        except ValueError:
            LOG.warning("Image %s: unknown hash algorithm %s", image.get("id"), algorithm)
    if image.get("checksum"):
        return "md5", hashlib.md5(usedforsecurity=False), image["checksum"]
    return None


class ImageCache:
    """The verified images of this host, in one directory."""

    def __init__(self, directory: str) -> None:
        self.directory = directory

    def path(self, image_id: str) -> str:
        """Return where the image's bits are (or will be) cached."""
        check_id(image_id)
        return os.path.join(self.directory, image_id)

    @contextlib.contextmanager
    def _lock(self, image_id: str) -> Iterator[None]:
        locks = os.path.join(self.directory, ".locks")
        os.makedirs(locks, exist_ok=True)
        with open(os.path.join(locks, image_id), "a") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def fetch(self, image: dict, download: Callable[[], Iterable[bytes]]) -> str:
        """Return the path of ``image``'s verified bits, downloading them unless cached.

        :param image: the image's record (``id``, checksums, ``size``).
        :param download: yields the image's data when called.
        :raises nova.exception.ImageChecksumMismatch: the data is not what
            the image's checksum or size says (nothing is left behind).
        """
        image_id = image["id"]
        target = self.path(image_id)
        if os.path.exists(target):
            return target
        with self._lock(image_id):
            if os.path.exists(target):  # another thread or process fetched it
                return target
            for stale in glob.glob(os.path.join(self.directory, f".{image_id}.part-*")):
                LOG.info("Removing %s, left by an interrupted download", stale)
                os.unlink(stale)
            self._download(image, download, target)
        return target

    def _download(self, image: dict, download: Callable[[], Iterable[bytes]], target: str) -> None:
        image_id = image["id"]
        hasher = _hasher(image)
        if hasher is None:
            LOG.warning("Image %s has no checksum: its data is cached unverified", image_id)
        size = 0
        fd, tmp = tempfile.mkstemp(prefix=f".{image_id}.part-", dir=self.directory)
        try:
            with os.fdopen(fd, "wb") as writer:
                for chunk in download():
                    if hasher is not None:
                        hasher[1].update(chunk)
                    size += len(chunk)
                    writer.write(chunk)
                writer.flush()
                os.fsync(writer.fileno())
            expected_size = image.get("size")
            if expected_size is not None and size != expected_size:
                raise exception.ImageChecksumMismatch(
                    image_id=image_id, algorithm="size", actual=size, expected=expected_size
                )
            if hasher is not None:
                algorithm, digest, expected = hasher
                if digest.hexdigest() != expected:
                    raise exception.ImageChecksumMismatch(
                        image_id=image_id,
                        algorithm=algorithm,
                        actual=digest.hexdigest(),
                        expected=expected,
                    )
            # mkstemp's 0600: the hypervisor (qemu) reads it as another user.
            os.chmod(tmp, 0o644)
            os.rename(tmp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        LOG.info("Cached image %s (%d bytes) in %s", image_id, size, target)
