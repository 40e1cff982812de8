"""VIF drivers: the ``<interface>`` of every type, validation, injection, selection."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import types
import unittest

from lxml import etree

from nova import exception
from nova.network import model
from nova.virt.libvirt import config
from nova.virt.libvirt import vif
from tests.fixtures import libvirt_schema

VIF_ID = "6a66c3bd-784d-4e82-8066-a615b5cd8b69"
INSTANCE = types.SimpleNamespace(
    id=42,
    uuid="cdab7b1f-553c-473e-b541-fe0ec8df1b3a",
    display_name="vm1",
    memory_mb=512,
    vcpus=1,
    root_gb=1,
    image_ref="cirros",
)
LEGACY_NET = model.Network(
    id="11111111-2222-4333-8444-555555555555",
    label="private",
    bridge="br100",
    cidr="10.1.0.0/25",
    gateway="10.1.0.1",
)
QUANTUM_NET = model.Network(id="22222222-2222-4333-8444-555555555555", label="web")


def make_vif(configuration, network=QUANTUM_NET, **extra) -> model.VIF:
    return model.VIF(
        id=VIF_ID,
        address="fa:16:3e:3c:ce:6f",
        network=network,
        configuration=configuration,
        **extra,
    )


def canonical(xml) -> str:
    if not isinstance(xml, str):
        xml = etree.tostring(xml, encoding="unicode")
    return etree.canonicalize(xml, strip_text=True)


def domain_with(interfaces) -> str:
    guest = config.Guest(
        name="instance-0000002a",
        uuid=INSTANCE.uuid,
        memory_kib=524288,
        devices=[config.GuestDisk(source_path="/tmp/disk"), *interfaces],
    )
    return guest.to_xml()


EXPECTED = {
    "bridge (legacy, with filter)": (
        make_vif({"vif_type": "bridge", "bridge": "br100"}, LEGACY_NET, fixed_ips=("10.1.0.2",)),
        """<interface type="bridge"><mac address="fa:16:3e:3c:ce:6f"/><source bridge="br100"/>
        <target dev="tap6a66c3bd-78"/><model type="virtio"/>
        <filterref filter="nova-instance-instance-0000002a-fa163e3cce6f">
        <parameter name="IP" value="10.1.0.2"/><parameter name="DHCPSERVER" value="10.1.0.1"/>
        <parameter name="PROJNET" value="10.1.0.0"/>
        <parameter name="PROJMASK" value="255.255.255.128"/></filterref></interface>""",
    ),
    "bridge (Linux bridge plugin)": (
        make_vif({"vif_type": "bridge", "bridge": "brq22222222-22"}),
        """<interface type="bridge"><mac address="fa:16:3e:3c:ce:6f"/>
        <source bridge="brq22222222-22"/><target dev="tap6a66c3bd-78"/>
        <model type="virtio"/></interface>""",
    ),
    "ethernet": (
        make_vif({"vif_type": "ethernet"}),
        """<interface type="ethernet"><mac address="fa:16:3e:3c:ce:6f"/>
        <target dev="tap6a66c3bd-78"/><model type="virtio"/></interface>""",
    ),
    "ovs": (
        make_vif({"vif_type": "ovs", "bridge": "br-int", "ovs_hybrid_plug": "false"}),
        f"""<interface type="bridge"><mac address="fa:16:3e:3c:ce:6f"/>
        <source bridge="br-int"/><target dev="tap6a66c3bd-78"/><model type="virtio"/>
        <virtualport type="openvswitch"><parameters interfaceid="{VIF_ID}"/></virtualport>
        </interface>""",
    ),
    "ovs hybrid": (
        make_vif({"vif_type": "ovs", "bridge": "br-int", "ovs_hybrid_plug": "true"}),
        """<interface type="bridge"><mac address="fa:16:3e:3c:ce:6f"/>
        <source bridge="qbr6a66c3bd-78"/><target dev="tap6a66c3bd-78"/>
        <model type="virtio"/></interface>""",
    ),
    "802.1qbh": (
        make_vif({"vif_type": "802.1qbh", "source_dev": "eth4", "profile_id": "enterprise-xyz"}),
        """<interface type="direct"><mac address="fa:16:3e:3c:ce:6f"/>
        <source dev="eth4" mode="private"/><model type="virtio"/>
        <virtualport type="802.1Qbh"><parameters profileid="enterprise-xyz"/></virtualport>
        </interface>""",
    ),
    "802.1qbg": (
        make_vif(
            {
                "vif_type": "802.1qbg",
                "source_dev": "eth0",
                "managerid": "11",
                "typeid": "1193047",
                "typeidversion": "2",
                "instanceid": VIF_ID,
            }
        ),
        f"""<interface type="direct"><mac address="fa:16:3e:3c:ce:6f"/>
        <source dev="eth0" mode="vepa"/><model type="virtio"/>
        <virtualport type="802.1Qbg"><parameters managerid="11" typeid="1193047"
        typeidversion="2" instanceid="{VIF_ID}"/></virtualport></interface>""",
    ),
    "vhostuser": (
        make_vif(
            {
                "vif_type": "vhostuser",
                "vhostuser_socket": "/var/run/openvswitch/vhu6a66c3bd-78",
                "vhostuser_mode": "server",
            }
        ),
        """<interface type="vhostuser"><mac address="fa:16:3e:3c:ce:6f"/>
        <source type="unix" mode="server" path="/var/run/openvswitch/vhu6a66c3bd-78"/>
        <model type="virtio"/></interface>""",
    ),
}


class InterfaceXMLTestCase(unittest.TestCase):
    def setUp(self) -> None:
        self.selector = vif.VIFDriverSelector()

    def interface(self, network_vif) -> config.ConfigObject:
        return self.selector.driver_for(network_vif).get_config(INSTANCE, network_vif)

    def test_every_type_builds_the_expected_interface(self):
        for name, (network_vif, expected) in EXPECTED.items():
            with self.subTest(name):
                built = self.interface(network_vif)
                self.assertEqual(canonical(built.format_dom()), canonical(expected))

    def test_every_domain_passes_libvirts_schema(self):
        libvirt_schema.require(self)
        for name, (network_vif, _expected) in EXPECTED.items():
            with self.subTest(name):
                libvirt_schema.assert_valid(self, domain_with([self.interface(network_vif)]))

    @unittest.skipUnless(shutil.which("virt-xml-validate"), "virt-xml-validate not installed")
    def test_virt_xml_validate_agrees(self):
        interfaces = [self.interface(network_vif) for network_vif, _ in EXPECTED.values()]
        with tempfile.NamedTemporaryFile("w", suffix=".xml", delete=False) as handle:
            handle.write(domain_with(interfaces))
        self.addCleanup(os.unlink, handle.name)
        result = subprocess.run(
            ["virt-xml-validate", handle.name, "domain"], capture_output=True, text=True
        )
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_parse_round_trip(self):
        for name, (network_vif, _expected) in EXPECTED.items():
            with self.subTest(name):
                built = self.interface(network_vif)
                parsed = config.GuestInterface.parse_dom(built.format_dom())
                self.assertEqual(parsed, built)
                self.assertEqual(config.Guest.interfaces_of(domain_with([built])), [built])


class InjectionTestCase(unittest.TestCase):
    NASTY = "x'\"<&/><evil/>"

    def test_values_stay_text(self):
        network_vif = make_vif({"vif_type": "vhostuser", "vhostuser_socket": "/run/" + self.NASTY})
        built = vif.VhostUserVIFDriver().get_config(INSTANCE, network_vif)
        xml = domain_with([built])
        libvirt_schema.assert_valid(self, xml)
        root = etree.fromstring(xml.encode())
        self.assertIsNone(root.find(".//evil"))
        self.assertEqual(root.find(".//interface/source").get("path"), "/run/" + self.NASTY)

    def test_values_that_libvirt_would_refuse_are_refused(self):
        cases = [
            ({"vif_type": "bridge", "bridge": "br0'/><evil"}, "bridge"),
            ({"vif_type": "ovs", "bridge": "br int"}, "bridge"),
            ({"vif_type": "802.1qbh", "source_dev": "eth4", "profile_id": "a'b"}, "profile_id"),
            ({"vif_type": "802.1qbh", "source_dev": "eth4", "profile_id": "p" * 40}, "profile_id"),
            ({"vif_type": "vhostuser", "vhostuser_socket": "relative/path"}, "vhostuser_socket"),
        ]
        for configuration, key in cases:
            with self.subTest(configuration=configuration):
                network_vif = make_vif(configuration)
                with self.assertRaisesRegex(vif.VIFConfigurationError, f"{VIF_ID}.*{key}"):
                    vif.VIFDriverSelector().driver_for(network_vif).get_config(
                        INSTANCE, network_vif
                    )


class ErrorsTestCase(unittest.TestCase):
    def build(self, configuration, choice="auto"):
        network_vif = make_vif(configuration)
        return (
            vif.VIFDriverSelector(choice).driver_for(network_vif).get_config(INSTANCE, network_vif)
        )

    def test_missing_key_names_vif_and_key(self):
        with self.assertRaisesRegex(
            vif.VIFConfigurationError, f"VIF {VIF_ID}: port configuration has no 'source_dev'"
        ):
            self.build({"vif_type": "802.1qbh", "profile_id": "p"})

    def test_unknown_or_missing_vif_type(self):
        with self.assertRaisesRegex(vif.VIFConfigurationError, "no VIF driver for vif_type 'x'"):
            self.build({"vif_type": "x"})
        with self.assertRaisesRegex(vif.VIFConfigurationError, "has no vif_type"):
            self.build({})

    def test_qbg_ids_must_be_integers_in_range_and_a_uuid(self):
        base = {
            "vif_type": "802.1qbg",
            "source_dev": "eth0",
            "managerid": "11",
            "typeid": "1",
            "typeidversion": "2",
            "instanceid": VIF_ID,
        }
        for key, value in (
            ("managerid", "256"),
            ("typeid", "16777216"),
            ("typeidversion", "x"),
            ("instanceid", "not-a-uuid"),
        ):
            with self.subTest(key=key):
                with self.assertRaisesRegex(vif.VIFConfigurationError, key):
                    self.build({**base, key: value})

    def test_forced_driver_by_name_and_path(self):
        built = self.build({"vif_type": "ovs"}, choice="ethernet")
        self.assertEqual(built.net_type, "ethernet")
        built = self.build({}, choice="nova.virt.libvirt.vif.EthernetVIFDriver")
        self.assertEqual(built.net_type, "ethernet")
        with self.assertRaises(exception.Invalid):
            vif.VIFDriverSelector("nope")
        with self.assertRaises(exception.Invalid):
            vif.VIFDriverSelector("nova.network.model.VIF")


class TemplateDriverTestCase(unittest.TestCase):
    def driver_with(self, template: str) -> vif.TemplateVIFDriver:
        with tempfile.NamedTemporaryFile("w", suffix=".xml.j2", delete=False) as handle:
            handle.write(template)
        self.addCleanup(os.unlink, handle.name)
        return vif.TemplateVIFDriver(template=handle.name)

    def test_keys_nova_does_not_know_reach_the_xml_escaped(self):
        template = (
            '<interface type="direct"><mac address="{{ mac }}"/>'
            '<source dev="{{ uplink }}" mode="passthrough"/>'
            "<alias name='ua-{{ vif_id }}'/>"
            "<description>{{ note }}</description></interface>"
        )
        network_vif = make_vif(
            {"vif_type": "anything", "uplink": "eth7", "note": InjectionTestCase.NASTY}
        )
        built = self.driver_with(template).get_config(INSTANCE, network_vif)
        element = built.format_dom()
        self.assertEqual(element.find("source").get("dev"), "eth7")
        self.assertEqual(element.find("mac").get("address"), network_vif.address)
        self.assertEqual(element.find("description").text, InjectionTestCase.NASTY)
        self.assertIsNone(element.find(".//evil"))

    def test_domain_with_template_interface_validates(self):
        template = (
            '<interface type="bridge"><mac address="{{ mac }}"/>'
            '<source bridge="{{ bridge }}"/><target dev="{{ tap }}"/></interface>'
        )
        network_vif = make_vif({"vif_type": "custom", "bridge": "br-custom"})
        built = self.driver_with(template).get_config(INSTANCE, network_vif)
        libvirt_schema.assert_valid(self, domain_with([built]))

    def test_missing_key_and_bad_templates(self):
        missing = self.driver_with('<interface type="ethernet"><x a="{{ nothere }}"/></interface>')
        with self.assertRaisesRegex(vif.VIFConfigurationError, "missing key.*nothere"):
            missing.get_config(INSTANCE, make_vif({}))
        not_interface = self.driver_with("<disk/>")
        with self.assertRaisesRegex(vif.VIFConfigurationError, "one <interface>"):
            not_interface.get_config(INSTANCE, make_vif({}))
        broken = self.driver_with("<interface")
        with self.assertRaisesRegex(vif.VIFConfigurationError, "does not render XML"):
            broken.get_config(INSTANCE, make_vif({}))

    def test_needs_a_template(self):
        with self.assertRaises(exception.Invalid):
            vif.TemplateVIFDriver(template=None)
