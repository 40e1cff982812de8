"""DHCP: one dnsmasq per network with a DHCP server, in the network's own namespace.

The namespace ``qdhcp-<network id>`` holds one end of a veth pair with the
subnet's ``dhcp_server`` address; the other end is wired like a VIF (on the
network's bridge, or on ``br-int`` with the network's local VLAN), so two
networks with the same CIDR never meet. dnsmasq answers only the MAC
addresses in its hosts file (no dynamic range): the ports wired on this host,
each with its fixed IP. A change of ports rewrites the file and sends SIGHUP.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from typing import NamedTuple

from pyroute2 import netns as pyroute2_netns

from quantum.agent import devices

LOG = logging.getLogger(__name__)


class Subnet(NamedTuple):
    """What a network's DHCP server needs, read from its ports' configuration."""

    cidr: str
    dhcp_server: str
    gateway: str | None

    @classmethod
    def from_configuration(cls, configuration: dict[str, str]) -> Subnet | None:
        """Return the subnet a port's configuration names (None: no DHCP on its network)."""
        server = configuration.get("dhcp_server")
        if not server:
            return None
        cidr = configuration.get("cidr")
        if not cidr:
            prefix = configuration.get("prefixlen") or configuration.get("netmask")
            if not prefix:
                return None
            cidr = str(ipaddress.ip_network(f"{server}/{prefix}", strict=False))
        return cls(cidr, server, configuration.get("gateway") or None)


class Wanted(NamedTuple):
    """A network that needs a DHCP server, and how its server end is wired."""

    subnet: Subnet
    hosts: tuple[tuple[str, str], ...]  # (MAC or MAC pattern, fixed IP)
    bridge: str | None  # Linux bridge
    vlan: int | None  # local VLAN on the Open vSwitch integration bridge


def names(network_id: str) -> tuple[str, str, str]:
    """Return the namespace, host-side and namespace-side devices of a network's DHCP server."""
    return f"qdhcp-{network_id}", ("qdh" + network_id)[:14], ("qdn" + network_id)[:14]


class DhcpManager:
    """Starts, reloads and stops the dnsmasq of each network (state under ``state_dir``)."""

    def __init__(
        self,
        state_dir: str,
        links: devices.Links,
        switch: devices.Switch | None,
        ovs_bridge: str,
        dnsmasq: str = "dnsmasq",
        lease_seconds: int = 86400,
        ethtool: str = "ethtool",
        bridge_prefix: str = "brq",
    ) -> None:
        self.state_dir = state_dir
        self.links = links
        self.switch = switch
        self.ovs_bridge = ovs_bridge
        self.dnsmasq = dnsmasq
        self.lease_seconds = lease_seconds
        self.ethtool = ethtool
        self.bridge_prefix = bridge_prefix
        self._wired: dict[str, Wanted] = {}

    def _dir(self, network_id: str) -> str:
        return os.path.join(self.state_dir, network_id)

    def running(self) -> list[str]:
        """Return the networks with a DHCP state directory (their server may be running)."""
        if not os.path.isdir(self.state_dir):
            return []
        return sorted(os.listdir(self.state_dir))

    def pid(self, network_id: str) -> int | None:
        """Return the pid of the network's live dnsmasq, if any."""
        try:
            with open(os.path.join(self._dir(network_id), "pid"), encoding="ascii") as f:
                pid = int(f.read().strip() or 0)
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read()
        except (OSError, ValueError):
            return None
        # A recycled pid is someone else's process: it must be ours, for this network.
        if b"dnsmasq" in cmdline and network_id.encode() in cmdline:
            return pid
        return None

    def sync(self, wanted: dict[str, Wanted]) -> None:
        """Make exactly the networks of ``wanted`` have a running, current DHCP server."""
        for network_id in self.running():
            if network_id not in wanted:
                self.stop(network_id)
        for network_id, want in wanted.items():
            try:
                self._ensure(network_id, want)
            except (OSError, devices.DeviceError, subprocess.SubprocessError) as exc:
                LOG.warning("DHCP server of network %s: %s", network_id, exc)

    def _ensure(self, network_id: str, want: Wanted) -> None:
        namespace, outside, inside = names(network_id)
        directory = self._dir(network_id)
        os.makedirs(directory, mode=0o755, exist_ok=True)
        known = self._wired.get(network_id)
        if known is None or known.subnet != want.subnet:
            self._plumb(network_id, want)
            pid = self.pid(network_id)
            if known is not None and pid is not None:
                # Another range or server address: a new dnsmasq (started below).
                self._kill(network_id, pid)
        self._wire(network_id, want)
        hosts = "".join(f"{mac},{ip}\n" for mac, ip in sorted(want.hosts))
        path = os.path.join(directory, "hosts")
        try:
            with open(path, encoding="ascii") as f:
                changed = f.read() != hosts
        except OSError:
            changed = True
        if changed:
            with open(path + ".tmp", "w", encoding="ascii") as f:
                f.write(hosts)
            os.replace(path + ".tmp", path)
        pid = self.pid(network_id)
        if pid is None:
            self._start(network_id, want, namespace, inside)
        elif changed:
            os.kill(pid, signal.SIGHUP)
            LOG.info("DHCP server of network %s reloaded (%d hosts)", network_id, len(want.hosts))
        self._wired[network_id] = want

    def _plumb(self, network_id: str, want: Wanted) -> None:
        """Make the namespace and its veth pair, the server's address on the inner end."""
        namespace, outside, inside = names(network_id)
        if namespace not in pyroute2_netns.listnetns():
            pyroute2_netns.create(namespace)
        links = self.links.all()
        if outside not in links:
            with self.links.ip() as ip:
                ip.link("add", ifname=outside, kind="veth", peer={"ifname": inside})
                ip.link("set", index=ip.link_lookup(ifname=outside)[0], state="up")
                ip.link("set", index=ip.link_lookup(ifname=inside)[0], net_ns_fd=namespace)
        prefix = ipaddress.ip_network(want.subnet.cidr).prefixlen
        with self.links.ip(namespace) as ip:
            for name in ("lo", inside):
                index = ip.link_lookup(ifname=name)[0]
                ip.link("set", index=index, state="up")
            index = ip.link_lookup(ifname=inside)[0]
            current = [
                (msg.get_attr("IFA_ADDRESS"), msg["prefixlen"])
                for msg in ip.get_addr(index=index, family=socket.AF_INET)
            ]
            if current != [(want.subnet.dhcp_server, prefix)]:
                ip.flush_addr(index=index)
                ip.addr("add", index=index, address=want.subnet.dhcp_server, prefixlen=prefix)
        # A veth leaves UDP checksums to "hardware": a userspace switch (Open vSwitch's
        # netdev datapath) forwards them unfinished and clients drop the offers.
        subprocess.run(
            ["ip", "netns", "exec", namespace, self.ethtool, "-K", inside, "tx", "off"],
            check=True,
            capture_output=True,
            timeout=30,
        )

    def _wire(self, network_id: str, want: Wanted) -> None:
        """Put the outer end on the network: its bridge, or its VLAN on the integration bridge."""
        outside = names(network_id)[1]
        if want.bridge:
            links = self.links.all()
            bridge = links.get(want.bridge)
            if bridge is None or links[outside].master != bridge.ifindex:
                self.links.ensure_bridge(want.bridge)
                self.links.set_master(outside, want.bridge)
        elif want.vlan is not None and self.switch is not None:
            current = self._wired.get(network_id)
            if current is None or current.vlan != want.vlan:
                self.switch.add_port(self.ovs_bridge, outside, want.vlan)
                self.switch.set_tag(outside, want.vlan)

    def _start(self, network_id: str, want: Wanted, namespace: str, device: str) -> None:
        directory = self._dir(network_id)
        network = ipaddress.ip_network(want.subnet.cidr)
        pidfile = os.path.join(directory, "pid")
        command = [
            "ip", "netns", "exec", namespace,
            self.dnsmasq,
            "--conf-file=/dev/null",
            "--no-hosts",
            "--no-resolv",
            "--port=0",  # DHCP only, no DNS
            "--bind-interfaces",
            f"--interface={device}",
            "--except-interface=lo",
            # "static": only the hosts of the file get an address.
            f"--dhcp-range=set:{network_id},{network.network_address},static,"
            f"{network.netmask},{self.lease_seconds}s",
            f"--dhcp-hostsfile={os.path.join(directory, 'hosts')}",
            "--leasefile-ro",
            "--dhcp-authoritative",
            f"--pid-file={pidfile}",
            f"--log-facility={os.path.join(directory, 'log')}",
            "--log-dhcp",
            # It re-reads the hosts file on SIGHUP: it stays the agent's user.
            f"--user={pwd.getpwuid(os.getuid()).pw_name}",
        ]  # fmt: skip
        command.append(
            f"--dhcp-option=tag:{network_id},3,{want.subnet.gateway}"
            if want.subnet.gateway
            else f"--dhcp-option=tag:{network_id},3"
        )
        with open(os.path.join(directory, "cmdline"), "w", encoding="utf-8") as f:
            f.write(" ".join(command) + "\n")
        subprocess.run(command, check=True, capture_output=True, timeout=30)
        deadline = time.monotonic() + 5
        while self.pid(network_id) is None and time.monotonic() < deadline:
            time.sleep(0.05)
        LOG.info(
            "DHCP server of network %s started on %s (%d hosts)",
            network_id,
            want.subnet.dhcp_server,
            len(want.hosts),
        )

    def _kill(self, network_id: str, pid: int) -> None:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 5
        while self.pid(network_id) is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.pid(network_id) is not None:
            os.kill(pid, signal.SIGKILL)

    def stop(self, network_id: str) -> None:
        """Stop the network's dnsmasq and remove its namespace, devices and state."""
        namespace, outside, _inside = names(network_id)
        pid = self.pid(network_id)
        if pid is not None:
            self._kill(network_id, pid)
        try:
            if self.switch is not None:
                self.switch.del_port(self.ovs_bridge, outside)
        except devices.DeviceError as exc:
            LOG.warning("DHCP port %s: %s", outside, exc)
        links = self.links.all()
        by_index = {link.ifindex: name for name, link in links.items()}
        bridge = by_index.get(links[outside].master or 0) if outside in links else None
        self.links.delete(outside)
        # The last member of the network's bridge: the bridge goes too (compute
        # removes a bridge with its last VIF, but this port kept it then).
        if (
            bridge
            and bridge.startswith(self.bridge_prefix)
            and not self.links.bridge_members(bridge)
        ):
            self.links.delete(bridge)
        if namespace in pyroute2_netns.listnetns():
            pyroute2_netns.remove(namespace)
        shutil.rmtree(self._dir(network_id), ignore_errors=True)
        self._wired.pop(network_id, None)
        LOG.info("DHCP server of network %s stopped", network_id)

    def stop_all(self) -> None:
        """Stop every DHCP server this agent runs."""
        for network_id in self.running():
            self.stop(network_id)
