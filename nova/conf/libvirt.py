"""Options of the ``[libvirt]`` group: the hypervisor connection and VIF drivers."""

from __future__ import annotations

from oslo_config import cfg

libvirt_group = cfg.OptGroup(
    "libvirt", title="libvirt", help="The libvirt compute driver and its VIF drivers."
)

libvirt_opts = [
    cfg.StrOpt(
        "connection_uri",
        default="test:///default",
        help="libvirt URI; test:///default needs no daemon (the embedded cloud), "
        "qemu:///system runs real guests (qemu:///system?socket=PATH: a libvirtd "
        "listening on another socket, as the test suite's).",
    ),
    cfg.StrOpt(
        "virt_type",
        default=None,
        choices=[
            ("kvm", "hardware virtualisation (/dev/kvm)"),
            ("qemu", "QEMU's software emulation (TCG): slower, runs anywhere"),
            ("test", "libvirt's test driver (test:// URIs): nothing boots"),
        ],
        help="Domain type. By default 'test' on a test:// URI, else 'kvm'. A "
        "qemu or kvm guest boots for real: its image (through the image "
        "service) is its disk, as a qcow2 overlay in the instance directory, or "
        "its kernel_id/ramdisk_id/os_command_line properties boot it directly; "
        "its serial console is logged to console.log in the instance directory.",
    ),
    cfg.StrOpt(
        "vif_driver",
        default="auto",
        help="VIF driver: 'auto' picks one per VIF by its configuration's vif_type; "
        "an alias of the nova.virt.libvirt.vif_drivers entry points (bridge, "
        "ethernet or tap, ovs, 802.1qbh, 802.1qbg, vhostuser, template) or an "
        "import path (package.module:Class) forces one for every VIF.",
    ),
    cfg.StrOpt(
        "vif_template",
        default=None,
        help="File of the 'template' VIF driver: a Jinja2 template rendering one "
        "<interface> element. Variables: each key of the port's configuration "
        "({{ key }}), configuration (the whole map), mac, vif_id, port_id, "
        "network_id, instance_uuid, instance_name and tap; values are escaped "
        "for XML, and an undefined variable is an error.",
    ),
    cfg.BoolOpt(
        "plug_vifs",
        default=False,
        help="Plug the host side of VIFs (tap devices, bridges, VLAN interfaces, "
        "Open vSwitch ports). Needs root; off in the embedded cloud.",
    ),
    cfg.StrOpt(
        "plug_netns",
        default=None,
        help="With plug_vifs: the network namespace (a name of `ip netns`) in which the "
        "host side of VIFs is made: that of libvirtd and its guests' taps when they "
        "run in one (./run_nova.sh --guests). Unset: nova-compute's own.",
    ),
    cfg.BoolOpt(
        "define_validate",
        default=False,
        help="Also have libvirt validate each domain against its schema when "
        "defining it (VIR_DOMAIN_DEFINE_VALIDATE). Nova validates the XML "
        "against the same RelaxNG schema (lxml, compiled once) before it plugs "
        "anything, so this repeats that check, at a fresh parse of the schema "
        "per define (some 15 ms). Without the schema file installed, libvirt "
        "always validates.",
    ),
    cfg.StrOpt(
        "xml_template",
        default=None,
        help="Replace the built-in domain layout by this file: a Jinja2 template "
        "rendering a <domain> element (variables: name, uuid, memory_kib, vcpus, "
        "virt_type, display_name, image_ref; escaped for XML) into whose "
        "<devices> Nova puts the disk and the interfaces.",
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register the ``[libvirt]`` options on ``conf``."""
    conf.register_group(libvirt_group)
    conf.register_opts(libvirt_opts, group=libvirt_group)


def list_opts() -> dict[cfg.OptGroup, list[cfg.Opt]]:
    """Return the options of this module by group, for the sample generator."""
    return {libvirt_group: libvirt_opts}
