"""The libvirt driver on libvirt's real test driver (``test:///default``)."""

from __future__ import annotations

import itertools
import os
import shutil
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
