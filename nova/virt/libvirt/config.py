"""libvirt XML config objects: one small class per element, rendered with lxml.

Each object builds its element with lxml (so every value is escaped as
text or attribute, never pasted into markup) and can be read back from an
element. Only what Nova sets is modelled.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from lxml import etree


class ConfigObject:
    """Base: ``format_dom`` builds the element, ``to_xml`` renders it."""

    root_name: ClassVar[str] = ""

    def format_dom(self) -> etree._Element:
        """Return this object as a new lxml element."""
        return etree.Element(self.root_name)

    def to_xml(self, pretty_print: bool = True) -> str:
        """Return this object as an XML string."""
        return etree.tostring(self.format_dom(), pretty_print=pretty_print, encoding="unicode")


def _sub(parent: etree._Element, tag: str, text: object = None, **attributes: object):
    """Append ``<tag attributes>text</tag>``, skipping attributes that are None."""
    element = etree.SubElement(
        parent, tag, {name: str(value) for name, value in attributes.items() if value is not None}
    )
    if text is not None:
        element.text = str(text)
    return element


@dataclasses.dataclass
class GuestInterface(ConfigObject):
    """``<interface>``: one NIC of the guest.

    ``virtualport_params`` go on ONE ``<parameters>`` element (the schema
    allows no more); ``filter_params`` become ``<parameter>`` children of
    ``<filterref>``, in order.
    """

    root_name: ClassVar[str] = "interface"

    net_type: str = "bridge"
    mac_addr: str | None = None
    model: str | None = "virtio"
    source_bridge: str | None = None
    source_dev: str | None = None
    source_mode: str | None = None
    source_type: str | None = None  # vhostuser: "unix"
    source_path: str | None = None
    target_dev: str | None = None
    script: str | None = None
    virtualport_type: str | None = None
    virtualport_params: dict[str, str] = dataclasses.field(default_factory=dict)
    filter_name: str | None = None
    filter_params: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    mtu: int | None = None
    bandwidth_in: dict[str, int] = dataclasses.field(default_factory=dict)
    bandwidth_out: dict[str, int] = dataclasses.field(default_factory=dict)

    def format_dom(self) -> etree._Element:
        element = etree.Element("interface", type=self.net_type)
        if self.mac_addr:
            _sub(element, "mac", address=self.mac_addr)
        if self.net_type == "bridge" and self.source_bridge:
            _sub(element, "source", bridge=self.source_bridge)
        elif self.net_type == "direct":
            _sub(element, "source", dev=self.source_dev, mode=self.source_mode)
        elif self.net_type == "vhostuser":
            _sub(
                element,
                "source",
                type=self.source_type,
                mode=self.source_mode,
                path=self.source_path,
            )
        if self.target_dev:
            _sub(element, "target", dev=self.target_dev)
        if self.script:  # an empty <script path=''/> is invalid
            _sub(element, "script", path=self.script)
        if self.model:
            _sub(element, "model", type=self.model)
        if self.virtualport_type:
            virtualport = _sub(element, "virtualport", type=self.virtualport_type)
            if self.virtualport_params:
                _sub(virtualport, "parameters", **self.virtualport_params)
        if self.filter_name:
            filterref = _sub(element, "filterref", filter=self.filter_name)
            for name, value in self.filter_params:
                _sub(filterref, "parameter", name=name, value=value)
        if self.bandwidth_in or self.bandwidth_out:
            bandwidth = _sub(element, "bandwidth")
            if self.bandwidth_in:
                _sub(bandwidth, "inbound", **self.bandwidth_in)
            if self.bandwidth_out:
                _sub(bandwidth, "outbound", **self.bandwidth_out)
        if self.mtu:
            _sub(element, "mtu", size=self.mtu)
        return element

    @classmethod
    def parse_dom(cls, element: etree._Element) -> GuestInterface:
        """Read an ``<interface>`` element back into a config object."""
        interface = cls(net_type=element.get("type"), model=None)
        for child in element:
            tag = child.tag
            if tag == "mac":
                interface.mac_addr = child.get("address")
            elif tag == "source":
                interface.source_bridge = child.get("bridge")
                interface.source_dev = child.get("dev")
                interface.source_mode = child.get("mode")
                interface.source_type = child.get("type")
                interface.source_path = child.get("path")
            elif tag == "target":
                interface.target_dev = child.get("dev")
            elif tag == "script":
                interface.script = child.get("path")
            elif tag == "model":
                interface.model = child.get("type")
            elif tag == "virtualport":
                interface.virtualport_type = child.get("type")
                parameters = child.find("parameters")
                if parameters is not None:
                    interface.virtualport_params = dict(parameters.attrib)
            elif tag == "filterref":
                interface.filter_name = child.get("filter")
                interface.filter_params = [
                    (p.get("name"), p.get("value")) for p in child.findall("parameter")
                ]
            elif tag == "mtu":
                interface.mtu = int(child.get("size"))
        return interface


@dataclasses.dataclass
class GuestDisk(ConfigObject):
    """``<disk>``: a file-backed disk (the root disk, or a read-only config drive)."""

    root_name: ClassVar[str] = "disk"

    source_path: str = ""
    target_dev: str = "vda"
    target_bus: str = "virtio"
    driver_type: str = "raw"
    device: str = "disk"
    readonly: bool = False
    serial: str | None = None

    def format_dom(self) -> etree._Element:
        element = etree.Element("disk", type="file", device=self.device)
        _sub(element, "driver", name="qemu", type=self.driver_type)
        _sub(element, "source", file=self.source_path)
        _sub(element, "target", dev=self.target_dev, bus=self.target_bus)
        if self.readonly:
            _sub(element, "readonly")
        if self.serial:
            _sub(element, "serial", self.serial)
        return element


@dataclasses.dataclass
class GuestSerial(ConfigObject):
    """``<serial type='file'>``: the guest's serial port logged to a file."""

    root_name: ClassVar[str] = "serial"

    source_path: str = ""
    port: int = 0

    def format_dom(self) -> etree._Element:
        element = etree.Element(self.root_name, type="file")
        _sub(element, "source", path=self.source_path)
        _sub(element, "target", port=self.port)
        return element


@dataclasses.dataclass
class GuestConsole(GuestSerial):
    """``<console type='file'>`` on serial port ``port`` (libvirt merges it with that serial)."""

    root_name: ClassVar[str] = "console"

    def format_dom(self) -> etree._Element:
        element = etree.Element(self.root_name, type="file")
        _sub(element, "source", path=self.source_path)
        _sub(element, "target", type="serial", port=self.port)
        return element


@dataclasses.dataclass
class Guest(ConfigObject):
    """``<domain>``: the whole guest."""

    root_name: ClassVar[str] = "domain"

    virt_type: str = "test"
    name: str = ""
    uuid: str = ""
    memory_kib: int = 0
    vcpus: int = 1
    os_type: str = "hvm"
    arch: str | None = "x86_64"
    #: Direct kernel boot: the kernel, initrd and command line given to it.
    kernel: str | None = None
    initrd: str | None = None
    cmdline: str | None = None
    #: ``<features>`` (empty ones: ``acpi``, ``apic``); a real guest needs ACPI.
    features: list[str] = dataclasses.field(default_factory=list)
    metadata: dict[str, str] = dataclasses.field(default_factory=dict)
    devices: list[ConfigObject] = dataclasses.field(default_factory=list)

    NOVA_NS: ClassVar[str] = "http://openstack.org/xmlns/libvirt/nova/1.0"

    def format_dom(self) -> etree._Element:
        element = etree.Element("domain", type=self.virt_type)
        _sub(element, "name", self.name)
        _sub(element, "uuid", self.uuid)
        if self.metadata:
            metadata = _sub(element, "metadata")
            instance = etree.SubElement(
                metadata, f"{{{self.NOVA_NS}}}instance", nsmap={"nova": self.NOVA_NS}
            )
            for key, value in self.metadata.items():
                etree.SubElement(instance, f"{{{self.NOVA_NS}}}{key}").text = value
        _sub(element, "memory", self.memory_kib, unit="KiB")
        _sub(element, "vcpu", self.vcpus)
        os_element = _sub(element, "os")
        _sub(os_element, "type", self.os_type, arch=self.arch)
        if self.kernel:
            _sub(os_element, "kernel", self.kernel)
            if self.initrd:
                _sub(os_element, "initrd", self.initrd)
            if self.cmdline:
                _sub(os_element, "cmdline", self.cmdline)
        else:
            _sub(os_element, "boot", dev="hd")
        if self.features:
            features = _sub(element, "features")
            for feature in self.features:
                _sub(features, feature)
        devices = _sub(element, "devices")
        for device in self.devices:
            devices.append(device.format_dom())
        return element

    @classmethod
    def interfaces_of(cls, xml: str | bytes) -> list[GuestInterface]:
        """Return the ``<interface>`` devices of a domain XML document."""
        root = etree.fromstring(xml.encode() if isinstance(xml, str) else xml)
        return [GuestInterface.parse_dom(e) for e in root.findall("./devices/interface")]
