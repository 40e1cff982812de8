"""The compute API's checks of a requested image (Nova's _check_requested_image)."""

from __future__ import annotations

import unittest
from unittest import mock

from nova import context as nova_context
from nova import exception
from nova.compute import api as compute_api
from nova.db import records

GIB = 1024**3
IMAGE_ID = "0b3f9a54-8c1e-4f4b-a1c3-7d0e2f6a9b11"


def flavor(memory_mb: int = 512, root_gb: int = 1) -> records.Flavor:
    return records.Flavor(1, "1", "m1.tiny", memory_mb, 1, root_gb, 0, 0, True, False, 1.0,
                          None, None, None, 0)  # fmt: skip


def image(**fields) -> dict:
    return {"id": IMAGE_ID, "status": "active", "size": 1000, "min_ram": 0, "min_disk": 0,
            **fields}  # fmt: skip


class CheckRequestedImageTest(unittest.TestCase):
    def setUp(self) -> None:
        self.images = mock.Mock()
        self.api = compute_api.API(network=mock.Mock(), scheduler=mock.Mock(), compute=mock.Mock())
        self.api._image = self.images
        self.context = nova_context.RequestContext("alice", "demo")

    def check(self, ref: str = IMAGE_ID, size: records.Flavor | None = None) -> str:
        return self.api._check_requested_image(self.context, ref, size or flavor())

    def test_id_and_url(self):
        self.images.show.return_value = image()
        self.assertEqual(self.check(), IMAGE_ID)
        self.assertEqual(self.check(f"http://glance:9292/v2/images/{IMAGE_ID}/"), IMAGE_ID)
        self.images.show.assert_called_with(self.context, IMAGE_ID)
        with self.assertRaises(exception.InvalidImageRef) as caught:
            self.check("http://glance/images/not-a-uuid")
        self.assertEqual(caught.exception.format_message(), "Invalid imageRef provided.")

    def test_not_found_is_a_bad_request(self):
        self.images.show.side_effect = exception.ImageNotFound(image_id=IMAGE_ID)
        with self.assertRaises(exception.ImageRefNotFound) as caught:
            self.check()
        self.assertEqual(caught.exception.code, 400)
        self.assertEqual(caught.exception.format_message(), "Can not find requested image")

    def test_refusals(self):
        cases = [
            (image(status="queued"), flavor(), exception.ImageNotActive,
             f"Image {IMAGE_ID} is not active."),
            (image(min_ram=1024), flavor(512), exception.FlavorMemoryTooSmall,
             "Flavor's memory is too small for requested image."),
            (image(size=2 * GIB), flavor(root_gb=1), exception.FlavorDiskSmallerThanImage,
             f"Flavor's disk is too small for requested image. Flavor disk is {GIB} bytes, "
             f"image is {2 * GIB} bytes."),
            (image(min_disk=5), flavor(root_gb=1), exception.FlavorDiskSmallerThanMinDisk,
             "Flavor's disk is smaller than the minimum size specified in image metadata. "
             f"Flavor disk is {GIB} bytes, minimum size is {5 * GIB} bytes."),
        ]  # fmt: skip
        for shown, size, error, message in cases:
            with self.subTest(error=error.__name__):
                self.images.show.return_value = shown
                with self.assertRaises(error) as caught:
                    self.check(size=size)
                self.assertEqual(caught.exception.code, 400)
                self.assertEqual(caught.exception.format_message(), message)

    def test_fits(self):
        # Exactly the minimum fits; a flavor without a root disk takes any size (as Nova).
        self.images.show.return_value = image(min_ram=512, min_disk=1, size=GIB)
        self.assertEqual(self.check(), IMAGE_ID)
        self.images.show.return_value = image(size=50 * GIB, min_disk=20)
        self.assertEqual(self.check(size=flavor(root_gb=0)), IMAGE_ID)
