"""The per-host image cache: verified, downloaded once, never partial."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import tempfile
import threading
import time
import unittest

from nova import exception
from nova.image import cache as image_cache

IMAGE_ID = "0b3f9a54-8c1e-4f4b-a1c3-7d0e2f6a9b11"
DATA = os.urandom(300_000)


def record(data: bytes = DATA, **overrides) -> dict:
    """Return a Glance-style record of ``data``."""
    return {
        "id": IMAGE_ID,
        "status": "active",
        "size": len(data),
        "checksum": hashlib.md5(data, usedforsecurity=False).hexdigest(),
        "os_hash_algo": "sha512",
        "os_hash_value": hashlib.sha512(data).hexdigest(),
        **overrides,
    }


def slow_download(data: bytes, calls: list, pause: float = 0.05):
    """Return a download function that counts its calls and yields slowly."""

    def download():
        calls.append(1)
        for start in range(0, len(data), 100_000):
            time.sleep(pause)
            yield data[start : start + 100_000]

    return download


def _fetch_in_process(directory: str, counter_path: str, barrier) -> None:
    """A process fetching the image (counts its downloads by appending to ``counter_path``)."""
    cache = image_cache.ImageCache(directory)

    def download():
        with open(counter_path, "a") as counter:
            counter.write("x")
        for start in range(0, len(DATA), 100_000):
            time.sleep(0.05)
            yield DATA[start : start + 100_000]

    barrier.wait()
    cache.fetch(record(), download)


class ImageCacheTest(unittest.TestCase):
    def setUp(self) -> None:
        self.directory = tempfile.mkdtemp()
        self.addCleanup(__import__("shutil").rmtree, self.directory)
        self.cache = image_cache.ImageCache(self.directory)

    def visible(self) -> list[str]:
        return sorted(name for name in os.listdir(self.directory) if name != ".locks")

    def test_fetch_downloads_and_verifies(self):
        calls: list = []
        path = self.cache.fetch(record(), slow_download(DATA, calls, 0))
        self.assertEqual(path, os.path.join(self.directory, IMAGE_ID))
        with open(path, "rb") as handle:
            self.assertEqual(handle.read(), DATA)
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o644)
        # Cached: a second fetch does not download.
        self.assertEqual(self.cache.fetch(record(), slow_download(DATA, calls, 0)), path)
        self.assertEqual(len(calls), 1)

    def test_concurrent_threads_download_once(self):
        calls: list = []
        download = slow_download(DATA, calls)
        paths: list[str] = []
        threads = [
            threading.Thread(target=lambda: paths.append(self.cache.fetch(record(), download)))
            for _ in range(6)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        self.assertEqual(len(calls), 1)
        self.assertEqual(len(paths), 6)
        self.assertEqual(set(paths), {os.path.join(self.directory, IMAGE_ID)})
        self.assertEqual(self.visible(), [IMAGE_ID])

    def test_concurrent_processes_download_once(self):
        counter = os.path.join(self.directory, "..", f"counter-{os.getpid()}-{id(self)}")
        self.addCleanup(lambda: os.path.exists(counter) and os.unlink(counter))
        context = multiprocessing.get_context("fork")
        barrier = context.Barrier(4)
        processes = [
            context.Process(target=_fetch_in_process, args=(self.directory, counter, barrier))
            for _ in range(4)
        ]
        for process in processes:
            process.start()
        for process in processes:
            process.join(30)
        self.assertEqual([p.exitcode for p in processes], [0, 0, 0, 0])
        with open(counter) as handle:
            self.assertEqual(handle.read(), "x")
        with open(os.path.join(self.directory, IMAGE_ID), "rb") as handle:
            self.assertEqual(handle.read(), DATA)

    def test_partial_download_is_invisible(self):
        seen: list[list[str]] = []

        def download():
            yield DATA[:1000]
            # Mid-download: the image's name is not there yet.
            seen.append(self.visible())
            seen.append([os.path.exists(os.path.join(self.directory, IMAGE_ID))])
            yield DATA[1000:]

        self.cache.fetch(record(), download)
        self.assertEqual(seen[1], [False])
        self.assertEqual(len(seen[0]), 1)
        self.assertTrue(seen[0][0].startswith(f".{IMAGE_ID}.part-"), seen[0])
        self.assertEqual(self.visible(), [IMAGE_ID])

    def test_checksum_mismatch_leaves_nothing(self):
        bad = DATA[:-1] + bytes([DATA[-1] ^ 1])
        with self.assertRaises(exception.ImageChecksumMismatch) as caught:
            self.cache.fetch(record(), slow_download(bad, [], 0))
        self.assertIn("sha512", str(caught.exception))
        self.assertEqual(self.visible(), [])
        # Retried with good data, it is cached.
        self.cache.fetch(record(), slow_download(DATA, [], 0))
        self.assertEqual(self.visible(), [IMAGE_ID])

    def test_md5_checksum_without_multihash(self):
        image = record(os_hash_algo=None, os_hash_value=None, size=None)
        with self.assertRaises(exception.ImageChecksumMismatch) as caught:
            self.cache.fetch(image, slow_download(DATA[:-1], [], 0))
        self.assertIn("md5", str(caught.exception))
        self.assertEqual(self.visible(), [])

    def test_size_mismatch_leaves_nothing(self):
        image = record(os_hash_algo=None, os_hash_value=None, checksum=None)
        with self.assertRaises(exception.ImageChecksumMismatch):
            self.cache.fetch(image, slow_download(DATA[:-5], [], 0))
        self.assertEqual(self.visible(), [])

    def test_failed_download_leaves_nothing(self):
        def download():
            yield DATA[:1000]
            raise exception.ImageServiceUnavailable(url="x", reason="connection reset")

        with self.assertRaises(exception.ImageServiceUnavailable):
            self.cache.fetch(record(), download)
        self.assertEqual(self.visible(), [])

    def test_stale_partial_file_is_removed(self):
        stale = os.path.join(self.directory, f".{IMAGE_ID}.part-dead")
        with open(stale, "wb") as handle:
            handle.write(b"half")
        self.cache.fetch(record(), slow_download(DATA, [], 0))
        self.assertEqual(self.visible(), [IMAGE_ID])

    def test_ids_that_are_not_file_names_are_refused(self):
        for bad in ("../etc", ".hidden", "a/b", "", "x" * 300, "a\nb"):
            with self.assertRaises(exception.InvalidImageRef, msg=bad):
                self.cache.path(bad)
