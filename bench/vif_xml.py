#!/usr/bin/env python3
"""Benchmark libvirt ``<interface>`` and domain XML generation; prints one JSON document.

* ``interfaces``: ``<interface>`` elements per second, each built the way the
  libvirt driver does (the VIF driver picked by ``vif_type``, then
  ``get_config(...).format_dom()``) and serialised with ``etree.tostring``,
  over a mix of every VIF type: bridge with ``filterref`` parameters (legacy
  network), bridge (Linux bridge plugin), ovs, ovs hybrid, ethernet,
  802.1qbh, 802.1qbg and vhostuser.
* ``domains``: whole domains with those 8 NICs per second, from
  ``LibvirtDriver.build_domain`` (which needs no libvirt connection).

Each is timed beside a baseline in the same run: hand-written
``etree.Element``/``SubElement`` code that builds the identical documents
from the same VIF objects (checked once, canonicalised, before timing), with
none of the drivers' checks. Runs are interleaved; the ratio is nova's median
rate over the baseline's (goal: at least ``GOAL_RATIO``). ``--profile``
prints where Nova's time goes (cProfile) to stderr.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import pstats
import shutil
import statistics
import sys
import tempfile
import types

import common  # bench/common.py, beside this script
from lxml import etree

import nova.conf
from nova.network import model
from nova.virt.libvirt import driver as libvirt_driver
from nova.virt.libvirt import vif as vif_drivers

CONF = nova.conf.CONF
GOAL_RATIO = 0.5
NOVA_NS = "http://openstack.org/xmlns/libvirt/nova/1.0"

INSTANCE = types.SimpleNamespace(
    id=42,
    uuid="cdab7b1f-553c-473e-b541-fe0ec8df1b3a",
    display_name="bench-vm",
    memory_mb=2048,
    vcpus=2,
    root_gb=10,
    image_ref="cirros-0.6.2",
)
LEGACY_NET = model.Network(
    id="11111111-2222-4333-8444-555555555555",
    label="private",
    bridge="br100",
    cidr="10.1.0.0/25",
    gateway="10.1.0.1",
)
QUANTUM_NET = model.Network(id="22222222-2222-4333-8444-555555555555", label="web")


def network_info() -> list[model.VIF]:
    """Return one VIF of every type (8 NICs), each with its own uuid and MAC."""
    configurations = [
        ({"vif_type": "bridge", "bridge": "br100"}, LEGACY_NET, ("10.1.0.2",)),
        ({"vif_type": "bridge", "bridge": "brq22222222-22"}, QUANTUM_NET, ()),
        ({"vif_type": "ovs", "bridge": "br-int", "ovs_hybrid_plug": "false"}, QUANTUM_NET, ()),
        ({"vif_type": "ovs", "bridge": "br-int", "ovs_hybrid_plug": "true"}, QUANTUM_NET, ()),
        ({"vif_type": "ethernet"}, QUANTUM_NET, ()),
        (
            {"vif_type": "802.1qbh", "source_dev": "eth4", "profile_id": "enterprise-xyz"},
            QUANTUM_NET,
            (),
        ),
        (
            {
                "vif_type": "802.1qbg",
                "source_dev": "eth0",
                "managerid": "11",
                "typeid": "1193047",
                "typeidversion": "2",
                "instanceid": "9b2a5c8e-3f4d-4e6a-8b1c-2d3e4f5a6b7c",
            },
            QUANTUM_NET,
            (),
        ),
        (
            {
                "vif_type": "vhostuser",
                "vhostuser_socket": "/var/run/openvswitch/vhu6a66c3bd-78",
                "vhostuser_mode": "server",
            },
            QUANTUM_NET,
            (),
        ),
    ]
    return [
        model.VIF(
            id=f"6a66c3bd-784d-4e82-8066-a615b5cd8b{index:02x}",
            address=f"fa:16:3e:3c:ce:{index:02x}",
            network=network,
            fixed_ips=fixed_ips,
            configuration=configuration,
        )
        for index, (configuration, network, fixed_ips) in enumerate(configurations)
    ]


# --- Nova ------------------------------------------------------------------------------


def nova_interfaces(selector: vif_drivers.VIFDriverSelector, vifs) -> list[bytes]:
    return [
        etree.tostring(selector.driver_for(vif).get_config(INSTANCE, vif).format_dom())
        for vif in vifs
    ]


# --- the baseline: the same documents, written by hand with lxml -----------------------


def _element(parent, tag: str, **attributes: str):
    return etree.SubElement(parent, tag, attributes)


def baseline_interface(instance, vif: model.VIF) -> etree._Element:
    """Build the ``<interface>`` of ``vif`` directly with lxml (no checks)."""
    conf = vif.configuration
    vif_type = conf["vif_type"]
    tap = ("tap" + vif.id)[:14]
    if vif_type == "bridge":
        element = etree.Element("interface", type="bridge")
        _element(element, "mac", address=vif.address)
        _element(element, "source", bridge=conf["bridge"])
        _element(element, "target", dev=tap)
        _element(element, "model", type="virtio")
        network = vif.network
        if network.cidr and network.gateway and vif.fixed_ips:
            cidr = ipaddress.ip_network(network.cidr)
            filterref = _element(
                element,
                "filterref",
                filter=f"nova-instance-instance-{instance.id:08x}-" + vif.address.replace(":", ""),
            )
            for ip in vif.fixed_ips:
                _element(filterref, "parameter", name="IP", value=ip)
            _element(filterref, "parameter", name="DHCPSERVER", value=network.gateway)
            _element(filterref, "parameter", name="PROJNET", value=str(cidr.network_address))
            _element(filterref, "parameter", name="PROJMASK", value=str(cidr.netmask))
    elif vif_type == "ovs":
        element = etree.Element("interface", type="bridge")
        _element(element, "mac", address=vif.address)
        if conf.get("ovs_hybrid_plug") == "true":
            _element(element, "source", bridge="qbr" + vif.id[:11])
            _element(element, "target", dev=tap)
            _element(element, "model", type="virtio")
        else:
            _element(element, "source", bridge=conf["bridge"])
            _element(element, "target", dev=tap)
            _element(element, "model", type="virtio")
            virtualport = _element(element, "virtualport", type="openvswitch")
            _element(virtualport, "parameters", interfaceid=vif.id)
    elif vif_type == "ethernet":
        element = etree.Element("interface", type="ethernet")
        _element(element, "mac", address=vif.address)
        _element(element, "target", dev=tap)
        _element(element, "model", type="virtio")
    elif vif_type == "802.1qbh":
        element = etree.Element("interface", type="direct")
        _element(element, "mac", address=vif.address)
        _element(element, "source", dev=conf["source_dev"], mode="private")
        _element(element, "model", type="virtio")
        virtualport = _element(element, "virtualport", type="802.1Qbh")
        _element(virtualport, "parameters", profileid=conf["profile_id"])
    elif vif_type == "802.1qbg":
        element = etree.Element("interface", type="direct")
        _element(element, "mac", address=vif.address)
        _element(element, "source", dev=conf["source_dev"], mode="vepa")
        _element(element, "model", type="virtio")
        virtualport = _element(element, "virtualport", type="802.1Qbg")
        _element(
            virtualport,
            "parameters",
            managerid=conf["managerid"],
            typeid=conf["typeid"],
            typeidversion=conf["typeidversion"],
            instanceid=conf["instanceid"],
        )
    elif vif_type == "vhostuser":
        element = etree.Element("interface", type="vhostuser")
        _element(element, "mac", address=vif.address)
        _element(
            element,
            "source",
            type="unix",
            mode=conf.get("vhostuser_mode", "server"),
            path=conf["vhostuser_socket"],
        )
        _element(element, "model", type="virtio")
    else:
        raise ValueError(vif_type)
    return element


def baseline_interfaces(vifs) -> list[bytes]:
    return [etree.tostring(baseline_interface(INSTANCE, vif)) for vif in vifs]


def baseline_domain(instance, vifs) -> str:
    """Build the domain ``build_domain`` builds, directly with lxml."""
    domain = etree.Element("domain", type="test")
    etree.SubElement(domain, "name").text = f"instance-{instance.id:08x}"
    etree.SubElement(domain, "uuid").text = instance.uuid
    metadata = etree.SubElement(domain, "metadata")
    nova_instance = etree.SubElement(metadata, f"{{{NOVA_NS}}}instance", nsmap={"nova": NOVA_NS})
    etree.SubElement(nova_instance, f"{{{NOVA_NS}}}name").text = instance.display_name
    etree.SubElement(nova_instance, f"{{{NOVA_NS}}}image").text = instance.image_ref
    _element(domain, "memory", unit="KiB").text = str(instance.memory_mb * 1024)
    etree.SubElement(domain, "vcpu").text = str(instance.vcpus)
    os_element = etree.SubElement(domain, "os")
    _element(os_element, "type", arch="x86_64").text = "hvm"
    _element(os_element, "boot", dev="hd")
    devices = etree.SubElement(domain, "devices")
    disk = _element(devices, "disk", type="file", device="disk")
    _element(disk, "driver", name="qemu", type="raw")
    _element(disk, "source", file=os.path.join(CONF.state_path, "instances", instance.uuid, "disk"))
    _element(disk, "target", dev="vda", bus="virtio")
    for vif in vifs:
        devices.append(baseline_interface(instance, vif))
    return etree.tostring(domain, pretty_print=True, encoding="unicode")


# --- timing --------------------------------------------------------------------------


def canonical(xml: str | bytes) -> str:
    if isinstance(xml, bytes):
        xml = xml.decode()
    return etree.canonicalize(xml, strip_text=True)


def same(nova_xml: str | bytes, baseline_xml: str | bytes) -> None:
    """Fail unless both documents are equal once canonicalised."""
    if canonical(nova_xml) != canonical(baseline_xml):
        raise AssertionError(f"the baseline differs:\n{nova_xml!r}\n{baseline_xml!r}")


def compare(kinds: dict, items_per_call: int, repeat: int, seconds: float) -> dict:
    """Time each kind ``repeat`` times, interleaved; report median rates and the ratio."""
    runs: dict[str, list[float]] = {kind: [] for kind in kinds}
    for _ in range(repeat):
        for kind, function in kinds.items():
            runs[kind].append(common.rate(function, seconds, items_per_call))
    medians = {kind: statistics.median(rates) for kind, rates in runs.items()}
    return {
        "nova_per_s": round(medians["nova"]),
        "baseline_per_s": round(medians["baseline"]),
        "ratio": round(medians["nova"] / medians["baseline"], 3),
        "runs_per_s": {kind: [round(r) for r in rates] for kind, rates in runs.items()},
    }


def profile(functions: dict, seconds: float) -> None:
    """Print the top of a cProfile of each of Nova's functions to stderr."""
    for name, function in functions.items():
        profiler, _calls = common.profiled(function, seconds)
        print(f"--- profile: {name} ---", file=sys.stderr)
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(25)


def machine() -> dict:
    return common.machine(
        lxml=".".join(map(str, etree.LXML_VERSION)),
        libxml2=".".join(map(str, etree.LIBXML_VERSION)),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="timed runs of each kind")
    parser.add_argument("--seconds", type=float, default=0.5, help="length of one run")
    parser.add_argument("--profile", action="store_true", help="cProfile Nova's side to stderr")
    args = parser.parse_args(argv)

    CONF([], default_config_files=[])
    state_path = tempfile.mkdtemp(prefix="nova-bench-")
    CONF.set_override("state_path", state_path)
    try:
        vifs = network_info()
        selector = vif_drivers.VIFDriverSelector()
        driver = libvirt_driver.LibvirtDriver(uri="test:///default")

        # The baseline must build exactly what Nova builds.
        pairs = zip(nova_interfaces(selector, vifs), baseline_interfaces(vifs), strict=True)
        for ours, theirs in pairs:
            same(ours, theirs)
        nova_xml = driver.build_domain(INSTANCE, vifs)
        same(nova_xml, baseline_domain(INSTANCE, vifs))
        libvirt_driver.validate_domain(nova_xml)

        interfaces = compare(
            {
                "nova": lambda: nova_interfaces(selector, vifs),
                "baseline": lambda: baseline_interfaces(vifs),
            },
            len(vifs),
            args.repeat,
            args.seconds,
        )
        domains = compare(
            {
                "nova": lambda: driver.build_domain(INSTANCE, vifs),
                "baseline": lambda: baseline_domain(INSTANCE, vifs),
            },
            1,
            args.repeat,
            args.seconds,
        )
        report = {
            "benchmark": "vif_xml",
            "machine": machine(),
            "vif_types": [vif.vif_type for vif in vifs],
            "interfaces": {"per_call": len(vifs), **interfaces},
            "domains_8_nics": domains,
            "goal": {
                "min_ratio": GOAL_RATIO,
                "met": min(interfaces["ratio"], domains["ratio"]) >= GOAL_RATIO,
            },
        }
        if args.profile:
            profile(
                {
                    "interfaces": lambda: nova_interfaces(selector, vifs),
                    "domain": lambda: driver.build_domain(INSTANCE, vifs),
                },
                2.0,
            )
    finally:
        CONF.clear_override("state_path")
        shutil.rmtree(state_path, ignore_errors=True)
    json.dump(report, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
