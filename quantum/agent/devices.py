"""The host devices the agent reads and wires: Linux links (netlink), Open vSwitch (ovs-vsctl).

Everything may be confined to a network namespace (``[agent] netns``): the
tests keep their bridges, taps and switch out of the host's own network.
"""

from __future__ import annotations

import contextlib
import json
import logging
import subprocess
from collections.abc import Iterator
from typing import NamedTuple

from pyroute2 import IPRoute
from pyroute2 import NetNS
from pyroute2.netlink.exceptions import NetlinkError

LOG = logging.getLogger(__name__)

_ENODEV = 19
_EEXIST = 17

#: The tag of an Open vSwitch port that must not reach any network.
DEAD_VLAN = 4095


class DeviceError(Exception):
    """A device could not be read or changed."""


class Link(NamedTuple):
    """A network device of the host."""

    name: str
    ifindex: int
    master: int | None
    kind: str | None
    address: str | None
    alias: str | None = None


class Links:
    """Linux links (taps, bridges, veth pairs) in ``netns`` or the agent's own namespace."""

    def __init__(self, netns: str | None = None) -> None:
        self.netns = netns
        # The socket of the agent's namespace stays open: opening one in
        # another namespace forks a helper, every pass would pay for it.
        self._socket: IPRoute | None = None

    @staticmethod
    def _open(netns: str | None) -> IPRoute:
        try:
            # flags=0: a missing namespace is an error, not silently created.
            return NetNS(netns, flags=0) if netns else IPRoute()
        except OSError as exc:
            raise DeviceError(f"network namespace {netns}: {exc}") from exc

    @contextlib.contextmanager
    def ip(self, netns: str | None = None) -> Iterator[IPRoute]:
        """Yield a netlink socket in ``netns`` (default: the agent's namespace)."""
        if netns and netns != self.netns:
            ip = self._open(netns)
            try:
                yield ip
            except NetlinkError as exc:
                raise DeviceError(f"netlink: {exc}") from exc
            finally:
                ip.close()
            return
        if self._socket is None:
            self._socket = self._open(self.netns)
        try:
            yield self._socket
        except NetlinkError as exc:
            self.close()
            raise DeviceError(f"netlink: {exc}") from exc
        except Exception:
            # Anything else may have left the socket unusable: the next call opens another.
            self.close()
            raise

    def close(self) -> None:
        """Close the socket of the agent's namespace (the next call opens another)."""
        if self._socket is not None:
            with contextlib.suppress(Exception):
                self._socket.close()
            self._socket = None

    def all(self) -> dict[str, Link]:
        """Return every link by name."""
        with self.ip() as ip:
            found = {}
            for msg in ip.get_links():
                info = msg.get_attr("IFLA_LINKINFO")
                name = msg.get_attr("IFLA_IFNAME")
                found[name] = Link(
                    name=name,
                    ifindex=msg["index"],
                    master=msg.get_attr("IFLA_MASTER"),
                    kind=info.get_attr("IFLA_INFO_KIND") if info else None,
                    address=msg.get_attr("IFLA_ADDRESS"),
                    alias=msg.get_attr("IFLA_IFALIAS"),
                )
            return found

    def ensure_bridge(self, name: str, alias: str | None = None) -> None:
        """Make Linux bridge ``name`` exist and be up (a new one labelled ``alias``)."""
        with self.ip() as ip:
            if not ip.link_lookup(ifname=name):
                try:
                    ip.link("add", ifname=name, kind="bridge")
                    LOG.info("Created bridge %s", name)
                    if alias:
                        ip.link("set", index=ip.link_lookup(ifname=name)[0], ifalias=alias)
                except NetlinkError as exc:
                    if exc.code != _EEXIST:
                        raise
            ip.link("set", index=ip.link_lookup(ifname=name)[0], state="up")

    def set_master(self, name: str, bridge: str | None) -> bool:
        """Enslave ``name`` to ``bridge`` (None: to no bridge); False if ``name`` is gone."""
        with self.ip() as ip:
            found = ip.link_lookup(ifname=name)
            if not found:
                return False
            master = ip.link_lookup(ifname=bridge)[0] if bridge else 0
            try:
                ip.link("set", index=found[0], master=master, state="up")
            except NetlinkError as exc:
                if exc.code == _ENODEV:
                    return False
                raise
            return True

    def delete(self, name: str, netns: str | None = None) -> None:
        """Remove device ``name`` (fine if it is gone)."""
        with self.ip(netns) as ip:
            found = ip.link_lookup(ifname=name)
            if found:
                try:
                    ip.link("del", index=found[0])
                    LOG.info("Removed %s", name)
                except NetlinkError as exc:
                    if exc.code != _ENODEV:
                        raise

    def bridge_members(self, bridge: str) -> list[str]:
        """Return the devices enslaved to ``bridge``."""
        links = self.all()
        if bridge not in links:
            return []
        index = links[bridge].ifindex
        return [link.name for link in links.values() if link.master == index]


class Interface(NamedTuple):
    """An Open vSwitch Interface (and its Port's tag)."""

    name: str
    iface_id: str | None
    attached_mac: str | None
    tag: int | None


class Switch:
    """Open vSwitch through ``ovs-vsctl`` at ``db`` (an OVSDB connection string)."""

    def __init__(self, db: str, vsctl: str = "ovs-vsctl", timeout: int = 10) -> None:
        self.db = db
        self.vsctl = vsctl
        self.timeout = timeout

    def run(self, *args: str) -> str:
        """Run ``ovs-vsctl ARGS`` and return its output."""
        command = [self.vsctl, f"--db={self.db}", f"--timeout={self.timeout}", *args]
        try:
            result = subprocess.run(command, capture_output=True, text=True, check=False)
        except OSError as exc:
            raise DeviceError(f"ovs-vsctl: {exc}") from exc
        if result.returncode:
            raise DeviceError(f"ovs-vsctl {' '.join(args)}: {result.stderr.strip()}")
        return result.stdout

    def ensure_bridge(self, bridge: str, datapath_type: str) -> None:
        """Make ``bridge`` exist with ``datapath_type`` (``netdev``: userspace)."""
        self.run(
            "--", "--may-exist", "add-br", bridge,
            "--", "set", "Bridge", bridge, f"datapath_type={datapath_type}",
        )  # fmt: skip

    def _table(self, table: str, columns: str) -> list[list]:
        out = json.loads(self.run("--format=json", f"--columns={columns}", "list", table))
        return out["data"]

    def interfaces(self, bridge: str) -> dict[str, Interface]:
        """Return the Interfaces of ``bridge``'s ports by name, with their tags."""
        names = self.run("list-ports", bridge).split()
        if not names:
            return {}
        tags = {}
        for name, tag in self._table("Port", "name,tag"):
            tags[name] = tag if isinstance(tag, int) else None
        found = {}
        for name, external_ids in self._table("Interface", "name,external_ids"):
            if name not in names:
                continue
            ids = dict(external_ids[1]) if external_ids[0] == "map" else {}
            found[name] = Interface(
                name, ids.get("iface-id"), ids.get("attached-mac"), tags.get(name)
            )
        return found

    def set_tag(self, port: str, tag: int) -> None:
        """Put ``port`` on VLAN ``tag`` (an access port)."""
        self.run("set", "Port", port, f"tag={tag}")

    def add_port(self, bridge: str, port: str, tag: int) -> None:
        """Add device ``port`` to ``bridge`` on VLAN ``tag``."""
        self.run("--", "--may-exist", "add-port", bridge, port, f"tag={tag}")

    def del_port(self, bridge: str, port: str) -> None:
        """Remove ``port`` from ``bridge`` (fine if it is not there)."""
        self.run("--", "--if-exists", "del-port", bridge, port)
