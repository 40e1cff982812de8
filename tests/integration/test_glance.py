"""Nova with a real image service: the Glance 33 test server (``start_glance``) and the local store.

One nova-all per class, configured with ``[glance] api_servers`` (or
``[image] backend = local``): imageRef is checked at create (unknown,
inactive, too big for the flavor: 400, nothing written), a server boots
from an image given by id or URL, compute fetches the image's bits into the
host's cache once (checksum verified), and ``/v2.1/images`` proxies the
image service in Nova's format. Skipped without ``NOVA_TEST_GLANCE_URL``
unless ``NOVA_TEST_REQUIRE_SERVICES`` names ``glance``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import time
import unittest
import uuid

import requests

from nova import context as nova_context
from nova import exception
from nova.image import glance
from tests.fixtures import databases
from tests.fixtures import processes

TOKEN = "alice:glance"
TIMEOUT = 30


class GlanceClient:
    """Just enough of Glance v2 over HTTP to make test images."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.session = requests.Session()
        self.session.trust_env = False

    def create(self, data: bytes | None = None, **fields) -> dict:
        body = {"name": f"nova-test-{uuid.uuid4().hex[:8]}", "disk_format": "raw",
                "container_format": "bare", **fields}  # fmt: skip
        response = self.session.post(f"{self.url}/v2/images", json=body, timeout=TIMEOUT)
        response.raise_for_status()
        image = response.json()
        if data is not None:
            response = self.session.put(
                f"{self.url}/v2/images/{image['id']}/file",
                data=data,
                headers={"Content-Type": "application/octet-stream"},
                timeout=TIMEOUT,
            )
            response.raise_for_status()
            image = self.show(image["id"])
        return image

    def show(self, image_id: str) -> dict:
        response = self.session.get(f"{self.url}/v2/images/{image_id}", timeout=TIMEOUT)
        response.raise_for_status()
        return response.json()

    def status(self, image_id: str) -> int:
        return self.session.get(f"{self.url}/v2/images/{image_id}", timeout=TIMEOUT).status_code

    def delete(self, image_id: str) -> None:
        self.session.delete(f"{self.url}/v2/images/{image_id}", timeout=TIMEOUT)


class ImageCloudTestCase(unittest.TestCase):
    """One nova-all for the class, its options from ``options()``."""

    nova_all: processes.NovaAll
    state: str

    @classmethod
    def options(cls) -> dict:
        raise NotImplementedError

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.state = tempfile.mkdtemp(prefix="nova-images-")
        cls.nova_all = processes.NovaAll(cls.state, options=cls.options())
        cls.nova_all.start()
        try:
            cls.nova_all.wait_ready()
        except RuntimeError:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls) -> None:
        cls.nova_all.close()
        shutil.rmtree(cls.state, ignore_errors=True)
        super().tearDownClass()

    def setUp(self) -> None:
        super().setUp()
        self.http = requests.Session()
        self.http.trust_env = False
        self.http.headers["X-Auth-Token"] = TOKEN
        self.addCleanup(self.http.close)

    def call(self, method: str, path: str, body=None, expect: int | None = None):
        response = self.http.request(
            method, f"{self.nova_all.api}{path}", json=body, timeout=TIMEOUT
        )
        if expect is not None:
            self.assertEqual(response.status_code, expect, response.text[:2000])
        return response

    def create(self, image_ref: str, expect: int = 202, **extra) -> requests.Response:
        body = {"server": {"name": "vm", "imageRef": image_ref, "flavorRef": "1",
                           "networks": "none", **extra}}  # fmt: skip
        return self.call("POST", "/servers", body, expect)

    def refused(self, image_ref: str, message: str, **extra) -> None:
        """Assert a create is a 400 badRequest with ``message`` and writes no server."""
        before = self.call("GET", "/servers", expect=200).json()["servers"]
        fault = self.create(image_ref, 400, **extra).json()
        self.assertEqual(fault["badRequest"]["code"], 400)
        self.assertEqual(fault["badRequest"]["message"], message)
        self.assertEqual(self.call("GET", "/servers", expect=200).json()["servers"], before)

    def wait_active(self, server_id: str) -> dict:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            server = self.call("GET", f"/servers/{server_id}", expect=200).json()["server"]
            if server["status"] == "ACTIVE":
                return server
            if server["status"] == "ERROR":
                self.fail(f"server went to ERROR: {server.get('fault')}")
            time.sleep(0.2)
        self.fail(f"server {server_id} not ACTIVE in time:\n{self.nova_all.log_tail()}")

    def cached(self, image_id: str) -> str:
        return os.path.join(self.state, "images", "_base", image_id)


class TestGlance(ImageCloudTestCase):
    glance: GlanceClient

    @classmethod
    def options(cls) -> dict:
        return {"glance": {"api_servers": cls.glance_url, "num_retries": 0}}

    @classmethod
    def setUpClass(cls) -> None:
        url = databases.server_url("glance")
        if not url:
            # skip_or_fail needs a test case: decided in setUp.
            cls.glance_url = None
            return
        cls.glance_url = url.rstrip("/")
        cls.glance = GlanceClient(cls.glance_url)
        cls.data = os.urandom(200_000)
        cls.image = cls.glance.create(cls.data)
        super().setUpClass()

    @classmethod
    def tearDownClass(cls) -> None:
        if cls.glance_url:
            cls.glance.delete(cls.image["id"])
            super().tearDownClass()

    def setUp(self) -> None:
        if not self.glance_url:
            databases.glance_url(self)  # skips, or fails when glance is required
        super().setUp()

    def test_image_refs_refused(self):
        queued = self.glance.create()  # no data: status queued
        self.addCleanup(self.glance.delete, queued["id"])
        big = self.glance.create(b"x" * 10, min_ram=1024)
        self.addCleanup(self.glance.delete, big["id"])
        disk = self.glance.create(b"x" * 10, min_disk=2)
        self.addCleanup(self.glance.delete, disk["id"])

        self.refused(str(uuid.uuid4()), "Can not find requested image")
        self.refused("not-an-image", "Invalid imageRef provided.")
        self.assertEqual(queued["status"], "queued")
        self.refused(queued["id"], f"Image {queued['id']} is not active.")
        self.refused(big["id"], "Flavor's memory is too small for requested image.")
        self.refused(
            disk["id"],
            "Flavor's disk is smaller than the minimum size specified in image metadata. "
            f"Flavor disk is {1024**3} bytes, minimum size is {2 * 1024**3} bytes.",
        )
        # An image block device mapping names the image the same way.
        self.refused(
            "",
            "Can not find requested image",
            block_device_mapping_v2=[
                {
                    "source_type": "image",
                    "destination_type": "local",
                    "boot_index": 0,
                    "uuid": str(uuid.uuid4()),
                }  # fmt: skip
            ],
        )

    def test_boot_by_id_and_url_fetches_once(self):
        image_id = self.image["id"]
        by_id = self.create(image_id).json()["server"]["id"]
        by_url = self.create(f"{self.glance_url}/v2/images/{image_id}").json()["server"]["id"]
        by_bdm = self.create(
            "",
            block_device_mapping_v2=[
                {
                    "source_type": "image",
                    "destination_type": "local",
                    "boot_index": 0,
                    "uuid": image_id,
                }  # fmt: skip
            ],
        ).json()["server"]["id"]
        for server_id in (by_id, by_url, by_bdm):
            server = self.wait_active(server_id)
            self.assertEqual(server["image"]["id"], image_id)
            self.assertEqual(
                server["image"]["links"],
                [
                    {
                        "rel": "bookmark",
                        "href": f"http://127.0.0.1:{self.nova_all.api_port}/images/{image_id}",
                    }
                ],  # fmt: skip
            )
            self.call("DELETE", f"/servers/{server_id}", expect=204)
        with open(self.cached(image_id), "rb") as handle:
            data = handle.read()
        self.assertEqual(hashlib.sha512(data).hexdigest(), self.image["os_hash_value"])
        self.assertEqual(data, self.data)
        # Three boots, one download.
        self.assertEqual(len(self.nova_all.log_lines(f"Cached image {image_id}")), 1)
        leftovers = [n for n in os.listdir(os.path.dirname(self.cached(image_id))) if ".part-" in n]
        self.assertEqual(leftovers, [])

    def test_image_proxy(self):
        image_id = self.image["id"]
        listed = self.call("GET", "/images", expect=200).json()["images"]
        entry = next(i for i in listed if i["id"] == image_id)
        self.assertEqual(entry["name"], self.image["name"])
        self.assertEqual(
            [link["rel"] for link in entry["links"]], ["self", "bookmark", "alternate"]
        )
        self.assertEqual(entry["links"][2]["href"], f"{self.glance_url}/images/{image_id}")
        named = self.call("GET", f"/images?name={self.image['name']}", expect=200).json()
        self.assertEqual([i["id"] for i in named["images"]], [image_id])

        detail = self.call("GET", f"/images/{image_id}", expect=200).json()["image"]
        self.assertEqual(detail["status"], "ACTIVE")
        self.assertEqual(detail["progress"], 100)
        self.assertEqual(detail["OS-EXT-IMG-SIZE:size"], len(self.data))
        self.assertEqual((detail["minRam"], detail["minDisk"]), (0, 0))
        fault = self.call("GET", f"/images/{uuid.uuid4()}", expect=404).json()
        self.assertEqual(fault["itemNotFound"]["message"], "Image not found.")

        self.assertNotIn("OS-DCF:diskConfig", detail)
        doomed = self.glance.create(b"bye", hw_disk_bus="virtio", auto_disk_config="True")
        shown = self.call("GET", "/images/detail", expect=200).json()["images"]
        mine = next(i for i in shown if i["id"] == doomed["id"])
        self.assertEqual(mine["metadata"], {"hw_disk_bus": "virtio", "auto_disk_config": "True"})
        self.assertEqual(mine["OS-DCF:diskConfig"], "AUTO")
        self.call("DELETE", f"/images/{doomed['id']}", expect=204)
        self.assertEqual(self.glance.status(doomed["id"]), 404)
        self.call("DELETE", f"/images/{doomed['id']}", expect=404)

    def test_paging(self):
        page = self.call("GET", "/images?limit=1", expect=200).json()
        self.assertEqual(len(page["images"]), 1)
        self.assertIn("marker=", page["images_links"][0]["href"])
        fault = self.call("GET", f"/images?marker={uuid.uuid4()}", expect=400).json()
        self.assertIn("badRequest", fault)


class TestLocalStore(ImageCloudTestCase):
    @classmethod
    def options(cls) -> dict:
        return {"image": {"backend": "local"}}

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [processes.command("nova-manage"), "--config-file", self.nova_all.config, *args],
            capture_output=True,
            text=True,
            timeout=60,
        )
        self.assertEqual(done.returncode, 0, done.stderr)
        return done.stdout

    def test_import_list_and_boot(self):
        source = os.path.join(self.state, "tiny.img")
        data = os.urandom(50_000)
        with open(source, "wb") as handle:
            handle.write(data)
        image_id = self.manage(
            "image", "import", "tiny", source, "--disk-format", "qcow2",
            "--property", "os_command_line=console=ttyS0", "--property", "min_ram=128",
        ).strip()  # fmt: skip
        self.assertEqual(str(uuid.UUID(image_id)), image_id)
        listing = self.manage("image", "list").splitlines()
        self.assertEqual(listing[0].split(), ["id", "name", "disk_format", "container_format",
                                              "size", "status"])  # fmt: skip
        self.assertIn([image_id, "tiny", "qcow2", "bare", "50000", "active"],
                      [line.split() for line in listing[1:]])  # fmt: skip

        detail = self.call("GET", f"/images/{image_id}", expect=200).json()["image"]
        self.assertEqual(detail["metadata"], {"os_command_line": "console=ttyS0"})
        self.assertEqual(detail["minRam"], 128)

        self.refused(str(uuid.uuid4()), "Can not find requested image")
        server_id = self.create(image_id).json()["server"]["id"]
        self.assertEqual(self.wait_active(server_id)["image"]["id"], image_id)
        with open(self.cached(image_id), "rb") as handle:
            self.assertEqual(handle.read(), data)
        # The local store's images are the cloud's: only admins delete them.
        self.call("DELETE", f"/images/{image_id}", expect=403)
        self.http.headers["X-Auth-Token"] = "admin:glance"
        self.call("DELETE", f"/images/{image_id}", expect=204)
        self.assertEqual(self.manage("image", "list").count(image_id), 0)


class TestNoImageService(ImageCloudTestCase):
    @classmethod
    def options(cls) -> dict:
        return {}

    def test_free_form_image_ref_and_empty_proxy(self):
        server_id = self.create("anything-goes").json()["server"]["id"]
        self.assertEqual(self.wait_active(server_id)["image"]["id"], "anything-goes")
        self.assertEqual(self.call("GET", "/images", expect=200).json(), {"images": []})
        self.assertEqual(self.call("GET", "/images/detail", expect=200).json(), {"images": []})
        self.call("GET", f"/images/{uuid.uuid4()}", expect=404)
        self.call("DELETE", f"/images/{uuid.uuid4()}", expect=404)
        self.assertFalse(os.path.exists(os.path.join(self.state, "images")))


class TestGlanceBackend(unittest.TestCase):
    """``nova.image.glance`` and ``nova.image.api`` called directly against the Glance server."""

    def setUp(self) -> None:
        super().setUp()
        self.url = databases.glance_url(self)
        self.client = GlanceClient(self.url)
        self.context = nova_context.RequestContext("alice", "glance", auth_token="alice:glance")
        dead = f"http://127.0.0.1:{processes.free_port()}"
        # A server that cannot be reached first: the call goes on to the next.
        self.service = glance.GlanceImageService([dead, self.url], timeout=10, num_retries=1)

    def test_failover_paging_and_errors(self):
        data = b"paged"
        made = [self.client.create(data, name=f"page-{uuid.uuid4().hex[:6]}") for _ in range(3)]
        for image in made:
            self.addCleanup(self.client.delete, image["id"])
        shown = self.service.show(self.context, made[0]["id"])
        self.assertEqual(shown["os_hash_value"], hashlib.sha512(data).hexdigest())
        # Glance pages by 25 by default; a page of 2 makes the client follow "next".
        ids = {i["id"] for i in self.service.get_all(self.context, {"limit": "2"})}
        self.assertTrue({i["id"] for i in made} <= ids, "every page was read")
        self.assertEqual(len(self.service.get_all(self.context, limit=2)), 2)
        self.assertEqual(b"".join(self.service.download(self.context, made[1]["id"])), data)
        with self.assertRaises(exception.ImageNotFound):
            self.service.show(self.context, str(uuid.uuid4()))
        queued = self.client.create()
        self.addCleanup(self.client.delete, queued["id"])
        with self.assertRaises(exception.ImageUnacceptable):
            list(self.service.download(self.context, queued["id"]))
        unreachable = glance.GlanceImageService(
            [f"http://127.0.0.1:{processes.free_port()}"], timeout=5, num_retries=1
        )
        with self.assertRaises(exception.ImageServiceUnavailable):
            unreachable.show(self.context, made[0]["id"])

    def test_catalog_endpoint(self):
        self.context.service_catalog = [
            {"type": "compute", "endpoints": [{"interface": "public", "url": "http://x"}]},
            {"type": "image", "endpoints": [{"interface": "public", "url": self.url}]},
        ]
        service = glance.GlanceImageService([], timeout=10, num_retries=0)
        image = self.client.create(b"catalog")
        self.addCleanup(self.client.delete, image["id"])
        self.assertEqual(service.show(self.context, image["id"])["id"], image["id"])
