"""The config drive: Nova's files, read back from the ISO9660 volume pycdlib wrote."""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import tempfile
import types
import unittest

import pycdlib

from nova.network import model
from nova.virt import configdrive

UUID = "5b1d8a8e-1f0e-4a55-9a2c-6f7b1c2d3e4f"


def make_instance(**values):
    fields = {
        "id": 7,
        "uuid": UUID,
        "display_name": "Web Server_1",
        "memory_mb": 128,
        "vcpus": 1,
        "root_gb": 1,
        "image_ref": "img",
        "availability_zone": "az1",
        "launch_index": 2,
        "project_id": "demo",
        "key_name": "mine",
        "key_data": "ssh-ed25519 AAAA me",
        "user_data": base64.b64encode(b"#!/bin/sh\necho hi\n").decode(),
        "config_drive": "True",
    }
    fields.update(values)
    return types.SimpleNamespace(**fields)


def vif(index: int, configuration=None, network=None, fixed_ips=()):
    return model.VIF(
        id=f"{index:08d}-aaaa-4bbb-8ccc-dddddddddddd",
        address=f"fa:16:3e:00:00:{index:02x}",
        network=network or model.Network(id=f"net-{index}"),
        fixed_ips=fixed_ips,
        configuration=configuration or {"vif_type": "bridge", "bridge": "br0"},
    )


def read_iso(path: str) -> tuple[str, dict[str, bytes]]:
    """Return the volume label and every file (by Rock Ridge path) of an ISO."""
    iso = pycdlib.PyCdlib()
    iso.open(path)
    try:
        label = iso.pvd.volume_identifier.decode().strip()
        files = {}
        for root, _dirs, names in iso.walk(rr_path="/"):
            for name in names:
                path_in = f"{root.rstrip('/')}/{name}"
                buffer = io.BytesIO()
                iso.get_file_from_iso_fp(buffer, rr_path=path_in)
                files[path_in.lstrip("/")] = buffer.getvalue()
        # Joliet names too (what Windows-family readers use).
        buffer = io.BytesIO()
        iso.get_file_from_iso_fp(buffer, joliet_path="/openstack/latest/meta_data.json")
        files["joliet:meta_data.json"] = buffer.getvalue()
    finally:
        iso.close()
    return label, files


class ConfigDriveTestCase(unittest.TestCase):
    def setUp(self) -> None:
        self.directory = tempfile.mkdtemp(prefix="nova-configdrive-")
        self.addCleanup(shutil.rmtree, self.directory, ignore_errors=True)

    def test_volume_has_novas_layout_and_contents(self):
        l3 = {
            "vif_type": "bridge",
            "bridge": "brq1",
            "ip_address": "10.0.0.5",
            "netmask": "255.255.255.0",
            "gateway": "10.0.0.1",
            "dhcp_server": "10.0.0.2",
            "mtu": "1450",
        }
        legacy = model.Network(id="legacy", cidr="192.168.7.0/25", gateway="192.168.7.1")
        static = {"vif_type": "ethernet", "ip_address": "10.1.0.9", "cidr": "10.1.0.0/16"}
        network_info = [
            vif(1, l3),
            vif(2, network=legacy, fixed_ips=("192.168.7.3",)),
            vif(3),
            vif(4, static),
        ]
        drive = configdrive.ConfigDrive.for_instance(
            make_instance(), network_info, {"ping": "10.0.0.3,10.0.0.4"}
        )
        path = os.path.join(self.directory, "disk.config")
        drive.write(path)
        self.assertFalse(os.path.exists(path + ".part"))

        label, files = read_iso(path)
        self.assertEqual(label, "config-2")
        self.assertEqual(
            set(files),
            {
                "openstack/latest/meta_data.json",
                "openstack/latest/network_data.json",
                "openstack/latest/vendor_data.json",
                "openstack/latest/vendor_data2.json",
                "openstack/latest/user_data",
                "joliet:meta_data.json",
            },
        )
        meta = json.loads(files["openstack/latest/meta_data.json"])
        self.assertEqual(files["joliet:meta_data.json"], files["openstack/latest/meta_data.json"])
        self.assertEqual(meta["uuid"], UUID)
        self.assertEqual(meta["name"], "Web Server_1")
        self.assertEqual(meta["hostname"], "web-server-1")
        self.assertEqual(meta["meta"], {"ping": "10.0.0.3,10.0.0.4"})
        self.assertEqual(meta["public_keys"], {"mine": "ssh-ed25519 AAAA me"})
        self.assertEqual(
            meta["keys"], [{"name": "mine", "type": "ssh", "data": "ssh-ed25519 AAAA me"}]
        )
        self.assertEqual((meta["availability_zone"], meta["launch_index"]), ("az1", 2))
        self.assertEqual(meta["project_id"], "demo")
        self.assertEqual(files["openstack/latest/user_data"], b"#!/bin/sh\necho hi\n")

        network = json.loads(files["openstack/latest/network_data.json"])
        self.assertEqual(
            [(link["id"], link["ethernet_mac_address"], link["mtu"]) for link in network["links"]],
            [
                ("tap00000001-aa", "fa:16:3e:00:00:01", 1450),
                ("tap00000002-aa", "fa:16:3e:00:00:02", None),
                ("tap00000003-aa", "fa:16:3e:00:00:03", None),
                ("tap00000004-aa", "fa:16:3e:00:00:04", None),
            ],
        )
        first, second, third, fourth = network["networks"]
        # The reference Quantum's L3 keys: the address, served by DHCP.
        self.assertEqual(
            first,
            {
                "id": "network0",
                "link": "tap00000001-aa",
                "network_id": "net-1",
                "type": "ipv4_dhcp",
                "ip_address": "10.0.0.5",
                "netmask": "255.255.255.0",
                "routes": [{"network": "0.0.0.0", "netmask": "0.0.0.0", "gateway": "10.0.0.1"}],
                "services": [],
            },
        )
        # A legacy network's fixed IP: static.
        self.assertEqual(
            (second["type"], second["ip_address"], second["netmask"]),
            ("ipv4", "192.168.7.3", "255.255.255.128"),
        )
        self.assertEqual(second["routes"][0]["gateway"], "192.168.7.1")
        # Nothing known: DHCP, no address.
        self.assertEqual(third, {"id": "network2", "link": "tap00000003-aa",
                                 "network_id": "net-3", "type": "ipv4_dhcp"})  # fmt: skip
        # An address with only a CIDR and no DHCP server: static, mask from the CIDR, no route.
        self.assertEqual(
            (fourth["type"], fourth["netmask"], fourth["routes"]), ("ipv4", "255.255.0.0", [])
        )

    def test_no_keys_user_data_or_nics(self):
        instance = make_instance(key_name=None, key_data=None, user_data=None, display_name=None)
        drive = configdrive.ConfigDrive.for_instance(instance, [], None)
        meta = json.loads(drive.files["openstack/latest/meta_data.json"])
        self.assertEqual((meta["public_keys"], meta["keys"], meta["meta"]), ({}, [], {}))
        self.assertEqual(meta["hostname"], "server")
        self.assertNotIn("openstack/latest/user_data", drive.files)
        network = json.loads(drive.files["openstack/latest/network_data.json"])
        self.assertEqual(network, {"links": [], "networks": [], "services": []})

    def test_hostnames_as_nova_sanitises_them(self):
        for name, hostname in (
            ("vm1", "vm1"),
            ("My VM_2", "my-vm-2"),
            ("--a.b--", "a.b"),
            ("ümlaut!", "mlaut"),
            ("x" * 80, "x" * 63),
            ("!!!", "server"),
        ):
            with self.subTest(name=name):
                self.assertEqual(configdrive.sanitize_hostname(name), hostname)
