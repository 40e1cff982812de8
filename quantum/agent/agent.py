"""The agent's loop: find the edge bindings, ask Quantum, wire, report op-status.

Each pass (every ``[agent] polling_interval`` seconds) reads the whole state
again: the host's taps and Open vSwitch interfaces and one list of every
attachment. So a pass after a crash or restart simply resyncs, and a detach
takes effect within one interval. The port configurations (the bridge, the
fixed IP and DHCP server) are read when an attachment first appears or moves,
and again every ``resync_interval``.

Why polling: an attach or detach happens in Quantum, which (v1.1) notifies
nobody, so Quantum must be asked in any case; netlink or OVSDB events would
only spare the cheap half (measured with 20 attached taps, 1 s interval: about
15 ms of CPU per pass, 1.5 % of a core; the server ~0.3 %).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from typing import NamedTuple

from oslo_config import cfg
from oslo_log import log

from quantum import conf as quantum_conf
from quantum import plugins
from quantum.agent import client as agent_client
from quantum.agent import devices
from quantum.agent import dhcp

LOG = logging.getLogger(__name__)

UP = "UP"
DOWN = "DOWN"
#: The ifalias of the Linux bridges an agent created: it removes them when they empty.
BRIDGE_ALIAS = "quantum-agent"


class Wired(NamedTuple):
    """An edge binding wired to its port's network."""

    attachment: agent_client.Attachment
    configuration: dict[str, str]
    mac: str | None
    bridge: str | None
    vlan: int | None


def guest_mac(tap_address: str | None) -> str | None:
    """Return the dnsmasq pattern of the guest MAC behind a tap.

    libvirt gives the tap of a guest NIC the guest's MAC with the first byte
    0xfe (so a bridge never takes the guest's address): the first byte is
    then unknown here and matched by a wildcard.
    """
    if not tap_address:
        return None
    if tap_address.lower().startswith("fe:"):
        return "*" + tap_address[2:]
    return tap_address


class Agent:
    """Wires this host's edge bindings to the networks their interface-ids are attached to."""

    def __init__(self, conf: cfg.ConfigOpts, client=None) -> None:
        self.conf = conf
        options = conf.agent
        self.links = devices.Links(options.netns)
        self.linuxbridge = "linuxbridge" in options.plugins
        self.switch = (
            devices.Switch(options.ovsdb_connection) if "openvswitch" in options.plugins else None
        )
        self.ovs_bridge = conf.openvswitch.integration_bridge
        self.bridge_prefix = conf.linuxbridge.bridge_prefix
        self.client = client or agent_client.QuantumClient(
            options.quantum_url, options.admin_token, timeout=options.request_timeout
        )
        self.dhcp = (
            dhcp.DhcpManager(
                os.path.join(conf.state_path, "dhcp"),
                self.links,
                self.switch,
                self.ovs_bridge,
                dnsmasq=options.dnsmasq_command,
                lease_seconds=options.dhcp_lease_seconds,
                bridge_prefix=conf.linuxbridge.bridge_prefix,
            )
            if options.enable_dhcp
            else None
        )
        #: Local VLAN of each network on the integration bridge (1-4094).
        self.vlans: dict[str, int] = {}
        #: Configuration of each attachment, with where it was read: (port, network).
        self._configurations: dict[str, tuple[tuple[str, str], dict[str, str] | None]] = {}
        self._configurations_read = 0.0
        #: The attachments this agent reported UP.
        self.reported: dict[str, agent_client.Attachment] = {}
        self._switch_ready = False
        self.passes = 0

    # --- one pass --------------------------------------------------------------

    def sync(self) -> dict[str, Wired]:
        """Wire and unwire every edge binding once; return what is wired."""
        attachments = self.client.attachments()
        if time.monotonic() - self._configurations_read > self.conf.agent.resync_interval:
            self._configurations.clear()
            self._configurations_read = time.monotonic()
        wired: dict[str, Wired] = {}
        ovs_names: set[str] = set()
        if self.switch is not None:
            if not self._switch_ready:
                self.switch.ensure_bridge(self.ovs_bridge, self.conf.agent.ovs_datapath_type)
                self._switch_ready = True
            interfaces = self.switch.interfaces(self.ovs_bridge)
            ovs_names = set(interfaces)
            self._sync_switch(interfaces, attachments, wired)
        if self.linuxbridge:
            self._sync_bridges(attachments, ovs_names, wired)
        self._report(attachments, wired)
        if self.dhcp is not None:
            self.dhcp.sync(self._dhcp_wanted(wired))
        self.passes += 1
        return wired

    def _configuration(self, attachment: agent_client.Attachment) -> dict[str, str] | None:
        where = (attachment.port_id, attachment.network_id)
        cached = self._configurations.get(attachment.id)
        if cached is None or cached[0] != where:
            cached = (where, self.client.port_configuration(attachment))
            self._configurations[attachment.id] = cached
        return cached[1]

    def _sync_bridges(self, attachments, ovs_names: set[str], wired: dict[str, Wired]) -> None:
        links = self.links.all()
        by_tap = {plugins.tap_name(id_): attachment for id_, attachment in attachments.items()}
        by_index = {link.ifindex: name for name, link in links.items()}
        emptied: set[str] = set()
        for name, link in links.items():
            if not name.startswith("tap") or name in ovs_names:
                continue
            attachment = by_tap.get(name)
            configuration = self._configuration(attachment) if attachment else None
            bridge = (configuration or {}).get("bridge")
            if (
                attachment
                and configuration
                and configuration.get("vif_type") == "bridge"
                and bridge
            ):
                current = by_index.get(link.master) if link.master else None
                if current != bridge:
                    self.links.ensure_bridge(bridge, alias=BRIDGE_ALIAS)
                    if self.links.set_master(name, bridge):
                        LOG.info(
                            "Wired %s to bridge %s (port %s)", name, bridge, attachment.port_id
                        )
                wired[attachment.id] = Wired(
                    attachment, configuration, guest_mac(link.address), bridge, None
                )
                continue
            master = by_index.get(link.master) if link.master else None
            # Only a bridge of this plugin: a tap of a legacy network is not ours.
            if master and master.startswith(self.bridge_prefix):
                self.links.set_master(name, None)
                LOG.info("Unwired %s from bridge %s", name, master)
                emptied.add(master)
        # A bridge an agent made goes with its last member, and so does one the
        # agent just emptied (compute removes a bridge with its last VIF; after a
        # detach that VIF is no longer on it).
        members = {link.master for link in links.values() if link.master}
        for name, link in links.items():
            if link.kind == "bridge" and link.alias == BRIDGE_ALIAS and link.ifindex not in members:
                self.links.delete(name)
        for bridge in emptied:
            if not self.links.bridge_members(bridge):
                self.links.delete(bridge)

    def _vlan(self, network_id: str) -> int:
        if network_id not in self.vlans:
            used = set(self.vlans.values())
            free = next(tag for tag in range(1, devices.DEAD_VLAN) if tag not in used)
            self.vlans[network_id] = free
            LOG.info("Local VLAN %d for network %s", free, network_id)
        return self.vlans[network_id]

    def _sync_switch(self, interfaces, attachments, wired: dict[str, Wired]) -> None:
        assert self.switch is not None
        wanted: dict[str, tuple[agent_client.Attachment, dict[str, str]]] = {}
        for name, interface in interfaces.items():
            attachment = attachments.get(interface.iface_id or "")
            configuration = self._configuration(attachment) if attachment else None
            if attachment and configuration and configuration.get("vif_type") == "ovs":
                wanted[name] = (attachment, configuration)
                # After a restart: keep the VLAN a network's ports already carry.
                tag = interface.tag
                if (
                    attachment.network_id not in self.vlans
                    and tag is not None
                    and 0 < tag < devices.DEAD_VLAN
                    and tag not in self.vlans.values()
                ):
                    self.vlans[attachment.network_id] = tag
        live = {attachment.network_id for attachment, _ in wanted.values()}
        for network_id in list(self.vlans):
            if network_id not in live:
                del self.vlans[network_id]
        for name, interface in interfaces.items():
            if name in wanted:
                attachment, configuration = wanted[name]
                tag = self._vlan(attachment.network_id)
                if interface.tag != tag:
                    self.switch.set_tag(name, tag)
                    LOG.info("Wired %s to VLAN %d (port %s)", name, tag, attachment.port_id)
                wired[attachment.id] = Wired(
                    attachment, configuration, interface.attached_mac, None, tag
                )
            elif interface.iface_id and interface.tag != devices.DEAD_VLAN:
                self.switch.set_tag(name, devices.DEAD_VLAN)
                LOG.info("Unwired %s (dead VLAN %d)", name, devices.DEAD_VLAN)

    def _report(self, attachments, wired: dict[str, Wired]) -> None:
        """Set op-status UP on the wired ports, DOWN on those no longer wired here."""
        wired_ports = {entry.attachment.port_id for entry in wired.values()}
        for id_, attachment in self.reported.items():
            current = attachments.get(id_)
            # Still attached to that port, but its edge binding is gone from this host.
            # (A detach already made the port DOWN, and its next attachment is another
            # host's to report: that port is not touched.)
            if (
                current is not None
                and current.port_id == attachment.port_id
                and attachment.port_id not in wired_ports
            ):
                self.client.set_op_status(attachment, DOWN)
        self.reported = {}
        for id_, entry in wired.items():
            if entry.attachment.op_status != UP:
                self.client.set_op_status(entry.attachment, UP)
            self.reported[id_] = entry.attachment

    def _dhcp_wanted(self, wired: dict[str, Wired]) -> dict[str, dhcp.Wanted]:
        subnets: dict[str, dhcp.Subnet] = {}
        hosts: dict[str, list[tuple[str, str]]] = {}
        where: dict[str, tuple[str | None, int | None]] = {}
        for entry in wired.values():
            subnet = dhcp.Subnet.from_configuration(entry.configuration)
            address = entry.configuration.get("ip_address")
            if subnet is None:
                continue
            network_id = entry.attachment.network_id
            subnets.setdefault(network_id, subnet)
            where.setdefault(network_id, (entry.bridge, entry.vlan))
            if entry.mac and address:
                hosts.setdefault(network_id, []).append((entry.mac, address))
        return {
            network_id: dhcp.Wanted(subnet, tuple(hosts.get(network_id, ())), *where[network_id])
            for network_id, subnet in subnets.items()
        }

    # --- running -----------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        """Run passes every ``polling_interval`` until ``stop`` is set."""
        interval = self.conf.agent.polling_interval
        LOG.info(
            "quantum-agent polling every %.1fs (%s), Quantum at %s",
            interval,
            ", ".join(self.conf.agent.plugins),
            self.conf.agent.quantum_url,
        )
        failing = False
        try:
            self._loop(stop, interval, failing)
        finally:
            self.links.close()

    def _loop(self, stop: threading.Event, interval: float, failing: bool) -> None:
        while not stop.is_set():
            started = time.monotonic()
            try:
                self.sync()
                if failing:
                    LOG.info("quantum-agent: passes succeed again")
                failing = False
            except (agent_client.ClientError, devices.DeviceError) as exc:
                # One line per outage, not one per pass.
                (LOG.debug if failing else LOG.warning)("quantum-agent pass failed: %s", exc)
                failing = True
            except Exception:  # noqa: BLE001 - the agent outlives one bad pass
                LOG.exception("quantum-agent pass failed")
                failing = True
            stop.wait(max(0.0, interval - (time.monotonic() - started)))


def start_thread(conf: cfg.ConfigOpts) -> tuple[threading.Thread, threading.Event]:
    """Run an agent for ``conf`` in a daemon thread (embedded in another process)."""
    stop = threading.Event()
    agent = Agent(conf)
    thread = threading.Thread(target=agent.run, args=(stop,), name="quantum-agent", daemon=True)
    thread.start()
    return thread, stop


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``quantum-agent --config-file F`` until SIGTERM or SIGINT."""
    try:
        conf = quantum_conf.parse_args(sys.argv[1:] if argv is None else argv)
    except cfg.Error as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1
    log.setup(conf, "quantum")
    stop = threading.Event()
    main_pid = os.getpid()

    def shutdown(signum, _frame):
        if os.getpid() != main_pid:
            # A helper process pyroute2 forked (NetNS) inherits the handler: it just ends.
            os._exit(0)
        LOG.info("Signal %d received, stopping", signum)
        stop.set()

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    Agent(conf).run(stop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
