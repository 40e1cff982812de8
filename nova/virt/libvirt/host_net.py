"""Host network devices for VIFs, over netlink (pyroute2) and ``ovs-vsctl``.

The edge binding: taps, Linux bridges, VLAN interfaces, veth pairs and Open
vSwitch ports tagged with the VIF's interface-id. Every ``ensure_*`` is
idempotent and every delete tolerates a device already gone, so plugging
twice or unplugging after a crash is safe. ``netns`` confines everything to
a network namespace (the tests never touch the host's own interfaces).
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import subprocess
from collections.abc import Iterator
from collections.abc import Mapping

from pyroute2 import IPRoute
from pyroute2 import NetNS
from pyroute2.netlink.exceptions import NetlinkError

from nova import exception

LOG = logging.getLogger(__name__)

_ENODEV = 19
_EEXIST = 17


def vlan_name(vlan: int, parent: str) -> str:
    """Return the VLAN interface of ``vlan`` on ``parent`` (``vlan100``)."""
    return f"vlan{vlan}"


class HostNetworkError(exception.NovaException):
    msg_fmt = "Host network: %(reason)s"


class HostNetwork:
    """Creates and removes the host devices of VIFs (in ``netns`` if given)."""

    def __init__(self, netns: str | None = None, ovs_vsctl: str | None = None) -> None:
        self.netns = netns
        self.ovs_vsctl = ovs_vsctl if ovs_vsctl is not None else shutil.which("ovs-vsctl")

    @contextlib.contextmanager
    def _ip(self) -> Iterator[IPRoute]:
        # flags=0: a missing namespace is an error; NetNS's default (O_CREAT)
        # would silently create (and leak) one and plug the devices there.
        try:
            ip = NetNS(self.netns, flags=0) if self.netns else IPRoute()
        except OSError as exc:
            raise HostNetworkError(reason=f"network namespace {self.netns}: {exc}") from exc
        try:
            yield ip
        except NetlinkError as exc:
            raise HostNetworkError(reason=f"netlink: {exc}") from exc
        finally:
            ip.close()

    @staticmethod
    def _index(ip, name: str) -> int | None:
        found = ip.link_lookup(ifname=name)
        return found[0] if found else None

    def exists(self, name: str) -> bool:
        """Tell whether device ``name`` exists."""
        with self._ip() as ip:
            return self._index(ip, name) is not None

    def _create(self, ip, name: str, **kwargs) -> bool:
        if self._index(ip, name) is not None:
            return False
        try:
            ip.link("add", ifname=name, **kwargs)
        except NetlinkError as exc:
            if exc.code != _EEXIST:  # a concurrent plug made it first
                raise
            return False
        LOG.info("Created %s %s", kwargs.get("kind"), name)
        return True

    def _up(self, ip, name: str, master: str | None = None, address: str | None = None) -> None:
        values: dict[str, object] = {"state": "up"}
        if master:
            values["master"] = self._index(ip, master)
        if address:
            values["address"] = address
        ip.link("set", index=self._index(ip, name), **values)

    def ensure_bridge(self, name: str) -> bool:
        """Make Linux bridge ``name`` exist and be up; return whether it was created."""
        with self._ip() as ip:
            created = self._create(ip, name, kind="bridge")
            self._up(ip, name)
            return created

    def ensure_vlan(self, vlan: int, parent: str, bridge: str) -> bool:
        """Make the VLAN interface of ``vlan`` on ``parent`` exist, enslaved to ``bridge``."""
        name = vlan_name(vlan, parent)
        with self._ip() as ip:
            parent_index = self._index(ip, parent)
            if parent_index is None:
                raise HostNetworkError(reason=f"VLAN {vlan}: no device {parent}")
            created = self._create(ip, name, kind="vlan", link=parent_index, vlan_id=vlan)
            self._up(ip, parent)
            self._up(ip, name, master=bridge)
            return created

    def ensure_tap(self, name: str, address: str, master: str | None = None) -> bool:
        """Make tap ``name`` (with the VIF's MAC) exist, up, on ``master`` if given."""
        with self._ip() as ip:
            created = self._create(ip, name, kind="tuntap", mode="tap")
            self._up(ip, name, master=master, address=address if created else None)
            return created

    def ensure_veth(self, name: str, peer: str, master: str | None = None) -> bool:
        """Make veth pair ``name``/``peer`` exist and be up; ``name`` on ``master``."""
        with self._ip() as ip:
            created = self._create(ip, name, kind="veth", peer=peer)
            self._up(ip, name, master=master)
            self._up(ip, peer)
            return created

    def delete_link(self, name: str) -> bool:
        """Remove device ``name``; return False when it was already gone."""
        with self._ip() as ip:
            index = self._index(ip, name)
            if index is None:
                return False
            try:
                ip.link("del", index=index)
            except NetlinkError as exc:
                if exc.code == _ENODEV:
                    return False
                raise
        LOG.info("Removed %s", name)
        return True

    def bridge_ports(self, bridge: str) -> list[str]:
        """Return the devices enslaved to ``bridge`` (none if it does not exist)."""
        with self._ip() as ip:
            index = self._index(ip, bridge)
            if index is None:
                return []
            return [
                link.get_attr("IFLA_IFNAME")
                for link in ip.get_links()
                if link.get_attr("IFLA_MASTER") == index
            ]

    # --- Open vSwitch -------------------------------------------------------------

    def has_ovs(self) -> bool:
        """Tell whether ``ovs-vsctl`` is available to plug Open vSwitch ports."""
        return bool(self.ovs_vsctl)

    def _vsctl(self, *args: str) -> None:
        if not self.ovs_vsctl:
            raise HostNetworkError(reason=f"ovs-vsctl {' '.join(args)}: ovs-vsctl is not installed")
        command = [self.ovs_vsctl, "--timeout=10", *args]
        if self.netns:
            command = ["ip", "netns", "exec", self.netns, *command]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode:
            raise HostNetworkError(reason=f"ovs-vsctl {' '.join(args)}: {result.stderr.strip()}")

    def ovs_add_port(self, bridge: str, device: str, external_ids: Mapping[str, str]) -> None:
        """Add ``device`` to Open vSwitch ``bridge``, tagged with ``external_ids``."""
        ids = [f"external-ids:{key}={value}" for key, value in external_ids.items()]
        self._vsctl(
            "--", "--may-exist", "add-port", bridge, device,
            "--", "set", "Interface", device, *ids,
        )  # fmt: skip

    def ovs_del_port(self, bridge: str, device: str) -> None:
        """Remove ``device`` from Open vSwitch ``bridge`` (fine if it is not there)."""
        self._vsctl("--", "--if-exists", "del-port", bridge, device)
