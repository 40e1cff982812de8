"""The libvirt driver on libvirt's real test driver (``test:///default``)."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import tempfile
import types
import unittest
import uuid
from unittest import mock

import libvirt
from lxml import etree

import nova.conf
from nova import exception
from nova.virt.libvirt import config
from nova.virt.libvirt import driver
from nova.virt.libvirt import vif
from tests.fixtures import libvirt_schema
from tests.unit.virt.libvirt import test_vif

CONF = nova.conf.CONF


def make_instance(**values):
    fields = {
        "id": 7,
        "uuid": str(uuid.uuid4()),
        "display_name": "vm",
        "memory_mb": 512,
        "vcpus": 1,
        "root_gb": 1,
        "image_ref": "cirros",
    }
    fields.update(values)
    return types.SimpleNamespace(**fields)


class RecordingHost:
    """A host network that records plug calls and can fail one (unit-test double)."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.devices: set[str] = set()
        self.fail_on = fail_on

    def ensure_tap(self, name, address, master=None):
        if name == self.fail_on:
            raise vif.VIFConfigurationError(vif_id=name, reason="injected plug failure")
        self.devices.add(name)

    def delete_link(self, name):
        self.devices.discard(name)


class LibvirtDriverTestCase(unittest.TestCase):
    def setUp(self) -> None:
        self.state_path = tempfile.mkdtemp(prefix="nova-libvirt-")
        self.addCleanup(shutil.rmtree, self.state_path, ignore_errors=True)
        CONF.set_override("state_path", self.state_path)
        self.addCleanup(CONF.clear_override, "state_path")
        self.driver = driver.LibvirtDriver(uri="test:///default")

    def network_info(self):
        info = []
        for index, (network_vif, _expected) in enumerate(test_vif.EXPECTED.values()):
            info.append(
                type(network_vif)(
                    **{
                        **network_vif.__dict__,
                        "id": str(uuid.uuid4()),
                        "address": f"fa:16:3e:00:00:{index:02x}",
                    }
                )
            )
        return info

    def domain(self, instance):
        return self.driver.connection.lookupByUUIDString(instance.uuid)

    def test_spawn_every_vif_type_then_destroy(self):
        instance = make_instance()
        info = self.network_info()
        self.assertEqual(len(info), 8)

        self.driver.spawn(instance, info)

        domain = self.domain(instance)
        self.assertTrue(domain.isActive())
        self.assertEqual(domain.name(), "instance-00000007")
        self.assertIn(instance.uuid, self.driver.list_instance_uuids())
        path = os.path.join(self.state_path, "instances", instance.uuid, "libvirt.xml")
        with open(path, encoding="utf-8") as handle:
            written = handle.read()
        libvirt_schema.assert_valid(self, written)
        interfaces = config.Guest.interfaces_of(written)
        self.assertEqual([i.mac_addr for i in interfaces], [v.address for v in info])
        self.assertEqual(interfaces, self.driver.build_interfaces(instance, info))
        # libvirt holds the same interfaces, in VIF order.
        live = etree.fromstring(domain.XMLDesc(0).encode()).findall("./devices/interface")
        self.assertEqual([i.find("mac").get("address") for i in live], [v.address for v in info])

        self.driver.destroy(instance, info)

        with self.assertRaises(libvirt.libvirtError):
            self.domain(instance)
        self.assertFalse(os.path.exists(os.path.dirname(path)))
        self.driver.destroy(instance, info)  # tolerates what is gone

    def test_bad_configuration_defines_and_plugs_nothing(self):
        host = RecordingHost()
        self.driver = driver.LibvirtDriver(uri="test:///default", host=host)
        instance = make_instance()
        good = test_vif.make_vif({"vif_type": "ethernet"})
        bad = test_vif.make_vif({"vif_type": "802.1qbh", "source_dev": "eth4"})
        with self.assertRaisesRegex(vif.VIFConfigurationError, "profile_id"):
            self.driver.spawn(instance, [good, bad])
        self.assertEqual(host.devices, set())
        self.assertNotIn(instance.uuid, self.driver.list_instance_uuids())
        self.assertFalse(os.path.exists(self.driver.instance_dir(instance)))

    def test_plug_failure_unplugs_what_was_plugged(self):
        first = test_vif.make_vif({"vif_type": "ethernet"})
        second = type(first)(
            **{**first.__dict__, "id": str(uuid.uuid4()), "address": "fa:16:3e:00:00:99"}
        )
        host = RecordingHost(fail_on=vif.tap_name(second))
        self.driver = driver.LibvirtDriver(uri="test:///default", host=host)
        instance = make_instance()
        with self.assertRaisesRegex(vif.VIFConfigurationError, "injected plug failure"):
            self.driver.spawn(instance, [first, second])
        self.assertEqual(host.devices, set())
        self.assertNotIn(instance.uuid, self.driver.list_instance_uuids())

    def test_schema_violation_is_caught_before_libvirt(self):
        template = os.path.join(self.state_path, "vif.xml.j2")
        with open(template, "w", encoding="utf-8") as handle:
            handle.write('<interface type="bridge"><bogus/></interface>')
        CONF.set_override("vif_driver", "template", group="libvirt")
        self.addCleanup(CONF.clear_override, "vif_driver", group="libvirt")
        CONF.set_override("vif_template", template, group="libvirt")
        self.addCleanup(CONF.clear_override, "vif_template", group="libvirt")
        self.driver = driver.LibvirtDriver(uri="test:///default")
        instance = make_instance()
        with self.assertRaises(driver.InvalidDomainXML):
            self.driver.spawn(instance, [test_vif.make_vif({"vif_type": "x"})])
        self.assertNotIn(instance.uuid, self.driver.list_instance_uuids())

    ids = itertools.count(100)

    def define_flags(self, **overrides) -> int:
        """Spawn an instance; return the flags the driver defined it with."""
        for name, value in overrides.items():
            CONF.set_override(name, value, group="libvirt")
            self.addCleanup(CONF.clear_override, name, group="libvirt")
        connection = self.driver.connection
        instance = make_instance(id=next(self.ids))  # a domain name of its own
        with mock.patch.object(
            connection, "defineXMLFlags", wraps=connection.defineXMLFlags
        ) as define:
            self.driver.spawn(instance, [test_vif.make_vif({"vif_type": "ethernet"})])
        self.addCleanup(self.driver.destroy, instance, [])
        ((_xml, flags),) = [call.args for call in define.call_args_list]
        return flags

    def test_libvirt_validates_again_only_when_asked_or_without_the_schema(self):
        self.assertEqual(self.define_flags(), 0)  # Nova's own validation is enough
        self.assertEqual(
            self.define_flags(define_validate=True), libvirt.VIR_DOMAIN_DEFINE_VALIDATE
        )
        with mock.patch.object(driver, "_relaxng", return_value=None):
            self.assertEqual(self.define_flags(), libvirt.VIR_DOMAIN_DEFINE_VALIDATE)

    def test_libvirt_error_is_reported_and_cleaned_up(self):
        first = make_instance(id=9)
        self.driver.spawn(first, [])
        self.addCleanup(self.driver.destroy, first, [])
        clash = make_instance(id=9)  # same domain name, another uuid
        with self.assertRaises(driver.InstanceSpawnError) as caught:
            self.driver.spawn(clash, [])
        self.assertIn(clash.uuid, str(caught.exception))
        self.assertIsInstance(caught.exception, exception.NovaException)
        self.assertFalse(os.path.exists(self.driver.instance_dir(clash)))
        self.assertTrue(self.domain(first).isActive())

    def test_operator_domain_template(self):
        template = os.path.join(self.state_path, "domain.xml.j2")
        with open(template, "w", encoding="utf-8") as handle:
            handle.write(
                "<domain type='{{ virt_type }}'><name>{{ name }}</name><uuid>{{ uuid }}</uuid>"
                "<description>{{ display_name }}</description>"
                "<memory unit='KiB'>{{ memory_kib }}</memory><vcpu>{{ vcpus }}</vcpu>"
                "<os><type>hvm</type></os><devices/></domain>"
            )
        CONF.set_override("xml_template", template, group="libvirt")
        self.addCleanup(CONF.clear_override, "xml_template", group="libvirt")
        instance = make_instance(display_name="<web & db>")
        self.driver.spawn(instance, [test_vif.make_vif({"vif_type": "ethernet"})])
        self.addCleanup(self.driver.destroy, instance, [])
        root = etree.fromstring(self.domain(instance).XMLDesc(0).encode())
        self.assertEqual(root.findtext("description"), "<web & db>")
        self.assertEqual(len(root.findall("./devices/interface")), 1)
        self.assertEqual(len(root.findall("./devices/disk")), 1)

    def test_available_resource(self):
        resources = self.driver.get_available_resource()
        self.assertGreater(resources.vcpus, 0)
        self.assertGreater(resources.memory_mb, 0)
        self.assertEqual(resources.hypervisor_type, "TEST")


class StubImages:
    """The image API's show and fetch over files of a directory (unit-test double)."""

    def __init__(self, directory: str, images: dict[str, dict]) -> None:
        self.directory = directory
        self.images = images
        self.fetched: list[str] = []

    def is_configured(self) -> bool:
        return True

    def show(self, context, image_id):
        if image_id not in self.images:
            raise exception.ImageNotFound(image_id=image_id)
        return {"id": image_id, "status": "active", **self.images[image_id]}

    def fetch(self, context, image_id):
        self.show(context, image_id)
        self.fetched.append(image_id)
        return os.path.join(self.directory, image_id)


class RealGuestLayoutTestCase(unittest.TestCase):
    """The domain of a real (qemu) guest: validated by libvirt's schema; its files."""

    def setUp(self) -> None:
        self.state_path = tempfile.mkdtemp(prefix="nova-libvirt-")
        self.addCleanup(shutil.rmtree, self.state_path, ignore_errors=True)
        for name, value, group in (
            ("state_path", self.state_path, None),
            ("virt_type", "qemu", "libvirt"),
        ):
            CONF.set_override(name, value, group=group)
            self.addCleanup(CONF.clear_override, name, group=group)
        self.images_dir = os.path.join(self.state_path, "cache")
        os.makedirs(self.images_dir)
        for name, size in (("kernel", 10), ("ramdisk", 10), ("machine", 1024 * 1024)):
            with open(os.path.join(self.images_dir, name), "wb") as handle:
                handle.truncate(size)
        self.images = StubImages(
            self.images_dir,
            {
                "kernel": {"disk_format": "aki"},
                "ramdisk": {"disk_format": "ari"},
                "machine": {
                    "disk_format": "ami",
                    "kernel_id": "kernel",
                    "ramdisk_id": "ramdisk",
                    "os_command_line": "console=ttyS0 quiet",
                },
                "plain": {"disk_format": "qcow2"},
                "odd": {"disk_format": "vhd"},
            },
        )
        self.driver = driver.LibvirtDriver(uri="test:///default", images=self.images)

    def require_qemu_img(self):
        if shutil.which("qemu-img") is None:
            self.skipTest("qemu-img is not installed (Debian: qemu-utils)")

    def test_direct_kernel_boot_with_overlay_console_and_config_drive(self):
        self.require_qemu_img()
        instance = make_instance(image_ref="machine", config_drive="True", memory_mb=128, vcpus=2)
        network_info = [test_vif.make_vif({"vif_type": "ethernet"})]
        boot = self.driver._boot_files(None, instance, network_info, {"ping": "10.0.0.3"})
        directory = self.driver.instance_dir(instance)
        self.assertEqual(boot.kernel, os.path.join(self.images_dir, "kernel"))
        self.assertEqual(boot.initrd, os.path.join(self.images_dir, "ramdisk"))
        self.assertEqual(boot.cmdline, "console=ttyS0 quiet")
        self.assertEqual(self.images.fetched, ["machine", "kernel", "ramdisk"])
        # The disk: a qcow2 overlay of the flavor's size on the cached image, untouched.
        info = json.loads(
            subprocess.run(
                ["qemu-img", "info", "--output=json", boot.disk],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )
        self.assertEqual(info["format"], "qcow2")
        self.assertEqual(info["virtual-size"], 1024**3)
        self.assertEqual(info["backing-filename"], os.path.join(self.images_dir, "machine"))
        self.assertEqual(info["backing-filename-format"], "raw")
        self.assertEqual(boot.config_drive, os.path.join(directory, "disk.config"))
        self.assertTrue(os.path.getsize(boot.config_drive) > 0)

        xml = self.driver.build_domain(instance, network_info, boot)
        libvirt_schema.assert_valid(self, xml)
        root = etree.fromstring(xml.encode())
        self.assertEqual(root.get("type"), "qemu")
        self.assertEqual(root.findtext("memory"), str(128 * 1024))
        self.assertEqual(root.findtext("vcpu"), "2")
        self.assertEqual(root.findtext("os/type"), "hvm")
        self.assertEqual(root.findtext("os/kernel"), boot.kernel)
        self.assertEqual(root.findtext("os/initrd"), boot.initrd)
        self.assertEqual(root.findtext("os/cmdline"), "console=ttyS0 quiet")
        self.assertIsNone(root.find("os/boot"))  # the kernel boots, not a disk
        self.assertEqual([f.tag for f in root.find("features")], ["acpi", "apic"])
        root_disk, drive = root.findall("devices/disk")
        self.assertEqual(
            (root_disk.find("driver").get("type"), root_disk.find("target").get("dev")),
            ("qcow2", "vda"),
        )
        self.assertEqual(drive.find("source").get("file"), boot.config_drive)
        self.assertEqual(
            (drive.find("target").get("dev"), drive.find("target").get("bus")), ("vdb", "virtio")
        )
        self.assertIsNotNone(drive.find("readonly"))
        console_log = os.path.join(directory, "console.log")
        self.assertEqual(root.find("devices/serial").get("type"), "file")
        self.assertEqual(root.find("devices/serial/source").get("path"), console_log)
        self.assertEqual(root.find("devices/console/target").get("type"), "serial")
        self.assertEqual(root.find("devices/console/source").get("path"), console_log)

    def test_disk_image_without_kernel_and_no_config_drive(self):
        self.require_qemu_img()
        with open(os.path.join(self.images_dir, "plain"), "wb") as handle:
            handle.write(b"")
        subprocess.run(
            [
                "qemu-img",
                "create",
                "-q",
                "-f",
                "qcow2",
                os.path.join(self.images_dir, "plain"),
                "2G",
            ],
            check=True,
        )
        instance = make_instance(image_ref="plain", config_drive=None, root_gb=0)
        boot = self.driver._boot_files(None, instance, [], {})
        info = subprocess.run(
            ["qemu-img", "info", "--output=json", boot.disk],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        # root_gb 0: the overlay has the image's size (2 GiB), as Nova sizes it.
        self.assertEqual(json.loads(info)["virtual-size"], 2 * 1024**3)
        self.assertEqual((boot.kernel, boot.initrd, boot.config_drive), (None, None, None))
        xml = self.driver.build_domain(instance, [], boot)
        libvirt_schema.assert_valid(self, xml)
        root = etree.fromstring(xml.encode())
        self.assertEqual(root.find("os/boot").get("dev"), "hd")
        self.assertEqual(len(root.findall("devices/disk")), 1)

    def test_force_config_drive_and_refused_images(self):
        CONF.set_override("force_config_drive", True)
        self.addCleanup(CONF.clear_override, "force_config_drive")
        self.assertTrue(driver.wants_config_drive(make_instance(config_drive=None)))
        with self.assertRaises(exception.ImageNotFound):
            self.driver.spawn(make_instance(image_ref="missing"), [])
        with self.assertRaisesRegex(exception.Invalid, "vhd"):
            self.driver.spawn(make_instance(image_ref="odd"), [])
        self.assertEqual(self.images.fetched, [])  # refused before anything was fetched
        self.assertEqual(os.listdir(os.path.join(self.state_path, "instances")), [])


class ConsoleOutputTestCase(unittest.TestCase):
    """``get_console_output`` of a test-driver guest, whose console.log the test writes."""

    setUp = LibvirtDriverTestCase.setUp

    def test_console_log_tail_with_unix_line_ends(self):
        instance = make_instance(config_drive="true")
        self.driver.spawn(instance, [])
        directory = self.driver.instance_dir(instance)
        self.assertTrue(os.path.exists(os.path.join(directory, "disk.config")))
        self.assertEqual(self.driver.get_console_output(instance), "")  # nothing written yet
        with open(os.path.join(directory, "console.log"), "wb") as handle:
            handle.write(b"GUEST BOOT 1.0\r\nPING 10.0.0.3 ok\r\n")
        self.assertEqual(
            self.driver.get_console_output(instance), "GUEST BOOT 1.0\nPING 10.0.0.3 ok\n"
        )
        with open(os.path.join(directory, "console.log"), "ab") as handle:
            handle.write(b"x" * (driver.MAX_CONSOLE_BYTES + 10) + b"\r\nend\r\n")
        output = self.driver.get_console_output(instance)
        self.assertEqual(len(output), driver.MAX_CONSOLE_BYTES - 2)  # two \r gone
        self.assertTrue(output.endswith("x\nend\n"))
        self.driver.destroy(instance, [])
        with self.assertRaises(exception.InstanceNotFound):
            self.driver.get_console_output(instance)

    def test_no_console_in_the_domain(self):
        instance = make_instance()
        self.driver.spawn(instance, [])
        self.addCleanup(self.driver.destroy, instance, [])
        domain = mock.Mock(XMLDesc=mock.Mock(return_value="<domain><devices/></domain>"))
        with mock.patch.object(self.driver, "_lookup", return_value=domain):
            with self.assertRaises(exception.ConsoleNotAvailable):
                self.driver.get_console_output(instance)


class LibvirtMakesTheTapsTestCase(unittest.TestCase):
    """A real hypervisor's libvirt makes each guest's tap: plugging leaves it to libvirt."""

    def plugged(self, virt_type: str, configuration: dict) -> list[str]:
        """Return the host calls of plugging one VIF under ``virt_type``."""
        CONF.set_override("virt_type", virt_type, group="libvirt")
        self.addCleanup(CONF.clear_override, "virt_type", group="libvirt")
        host = mock.Mock()
        host.bridge_ports.return_value = []
        host.has_ovs.return_value = True
        selector = driver.LibvirtDriver(uri="test:///default", host=host).vifs
        network_vif = test_vif.make_vif(configuration)
        selector.driver_for(network_vif).plug(make_instance(), network_vif)
        return [name for name, _args, _kwargs in host.method_calls if name != "has_ovs"]

    def test_taps_are_libvirts_under_qemu_and_nova_makes_them_for_the_test_driver(self):
        for configuration, test_calls, qemu_calls in (
            ({"vif_type": "ethernet"}, ["ensure_tap"], []),
            ({"vif_type": "bridge", "bridge": "br1"}, ["ensure_bridge", "ensure_tap"],
             ["ensure_bridge"]),
            ({"vif_type": "ovs", "bridge": "br-int"}, ["ensure_tap", "ovs_add_port"], []),
            ({"vif_type": "ovs", "bridge": "br-int", "ovs_hybrid_plug": "true"},
             ["ensure_bridge", "ensure_veth", "ovs_add_port", "ensure_tap"],
             ["ensure_bridge", "ensure_veth", "ovs_add_port"]),
        ):  # fmt: skip
            with self.subTest(configuration=configuration):
                self.assertEqual(self.plugged("test", configuration), test_calls)
                self.assertEqual(self.plugged("qemu", configuration), qemu_calls)
