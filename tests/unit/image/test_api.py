"""nova.image.api.API: which backend, the local store, fetch through the cache."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import unittest

from oslo_config import cfg

import nova.conf
from nova import context as nova_context
from nova import exception
from nova.image import api as image_api
from nova.image import local


class ImageAPITest(unittest.TestCase):
    def setUp(self) -> None:
        self.state = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.state)
        self.conf = cfg.ConfigOpts()
        nova.conf.base.register_opts(self.conf)
        # By name: an OptGroup object keeps its options' overrides, and
        # nova.conf.image's are the global CONF's.
        for group, opts in nova.conf.image.list_opts().items():
            self.conf.register_opts(opts, group=group.name)
        self.conf([], default_config_files=[])
        self.conf.set_override("state_path", self.state)
        self.context = nova_context.RequestContext("alice", "demo")

    def test_backend_choice(self):
        api = image_api.API(self.conf)
        self.assertFalse(api.is_configured())
        self.assertEqual(api.get_all(self.context), [])
        with self.assertRaises(exception.ImageNotFound):
            api.show(self.context, "0b3f9a54-8c1e-4f4b-a1c3-7d0e2f6a9b11")
        self.conf.set_override("api_servers", ["http://127.0.0.1:9"], group="glance")
        self.assertTrue(image_api.API(self.conf).is_configured())
        self.assertEqual(image_api.API(self.conf).backend_name(), "glance")
        self.conf.set_override("backend", "none", group="image")
        self.assertFalse(image_api.API(self.conf).is_configured())
        self.conf.set_override("backend", "local", group="image")
        self.assertEqual(image_api.API(self.conf).backend_name(), "local")

    def test_local_store_show_list_fetch_delete(self):
        self.conf.set_override("backend", "local", group="image")
        source = os.path.join(self.state, "source.img")
        data = os.urandom(70_000)
        with open(source, "wb") as handle:
            handle.write(data)
        store = local.LocalImageStore(self.conf.image.local_store_path)
        made = store.create("tiny", source, "qcow2", properties={"kernel_id": "k", "min_ram": "64"})
        api = image_api.API(self.conf)
        image = api.show(self.context, made["id"])
        self.assertEqual(image["name"], "tiny")
        self.assertEqual(image["status"], "active")
        self.assertEqual(image["min_ram"], 64)
        self.assertEqual(image["kernel_id"], "k")
        self.assertEqual(image["size"], len(data))
        self.assertEqual(image["os_hash_value"], hashlib.sha512(data).hexdigest())
        self.assertEqual(
            [i["id"] for i in api.get_all(self.context, {"name": "tiny"})], [made["id"]]
        )
        self.assertEqual(api.get_all(self.context, {"name": "other"}), [])

        path = api.fetch(self.context, made["id"])
        self.assertEqual(path, os.path.join(self.state, "images", "_base", made["id"]))
        with open(path, "rb") as handle:
            self.assertEqual(handle.read(), data)

        api.delete(self.context, made["id"])
        with self.assertRaises(exception.ImageNotFound):
            api.show(self.context, made["id"])
        for bad in ("../x", "nope"):
            with self.assertRaises(exception.ImageNotFound):
                api.show(self.context, bad)

    def test_local_store_refuses_bad_input(self):
        source = os.path.join(self.state, "source.img")
        open(source, "wb").close()
        store = local.LocalImageStore(os.path.join(self.state, "store"))
        for kwargs in (
            {"disk_format": "floppy"},
            {"container_format": "zip"},
            {"properties": {"id": "x"}},
            {"properties": {"min_disk": "-1"}},
        ):
            with self.assertRaises(exception.Invalid, msg=kwargs):
                store.create("x", source, **kwargs)
        self.assertEqual(store.get_all(self.context), [])
