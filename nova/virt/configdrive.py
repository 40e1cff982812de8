"""The config drive: Nova's metadata for the guest on an ISO9660 volume.

Nova's layout (what cloud-init and the test guest read): a volume labelled
``config-2`` holding ``openstack/latest/meta_data.json`` (uuid, name,
hostname, meta = the server metadata, public_keys and keys, availability
zone, launch index, project id), ``openstack/latest/network_data.json``
(``links`` from the VIFs with their MACs, ``networks`` with the address the
port configuration carries, ``services``) and, when the server has some,
``openstack/latest/user_data``. Written in-process with pycdlib (Rock Ridge
and Joliet names, as ``genisoimage -J -r``).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import io
import ipaddress
import json
import os
import re
from collections.abc import Mapping

import pycdlib

from nova.network import model
from nova.virt import driver

#: The volume label the guest looks for (Nova's).
VOLUME_LABEL = "config-2"
LATEST = "openstack/latest"


def sanitize_hostname(name: str | None, default: str = "server") -> str:
    """Return ``name`` as a host name as Nova makes it (lower case, ``[a-z0-9.-]``, 63 chars)."""
    hostname = (name or "").lower()
    hostname = re.sub(r"[ _]", "-", hostname)
    hostname = re.sub(r"[^a-z0-9.-]+", "", hostname)
    hostname = hostname[:63].strip(".-")
    return hostname or default


def link_id(vif: model.VIF) -> str:
    """Return the id of a VIF's link in network_data.json (its tap device's name, as Nova)."""
    return ("tap" + vif.id)[:14]


def _routes(gateway: str | None) -> list[dict[str, str]]:
    if not gateway:
        return []
    return [{"network": "0.0.0.0", "netmask": "0.0.0.0", "gateway": gateway}]


def _network(index: int, vif: model.VIF) -> dict:
    """Return the ``networks`` entry of ``vif``: its address, or DHCP when none is known."""
    entry: dict = {
        "id": f"network{index}",
        "link": link_id(vif),
        "network_id": vif.network.id,
        "type": "ipv4_dhcp",
    }
    configuration = vif.configuration
    address = configuration.get("ip_address")
    if address:
        # The L3 keys of the reference Quantum's port configuration.
        netmask = configuration.get("netmask")
        if not netmask and configuration.get("cidr"):
            netmask = str(ipaddress.ip_network(configuration["cidr"], strict=False).netmask)
        gateway = configuration.get("gateway")
        dhcp = bool(configuration.get("dhcp_server"))
    elif vif.fixed_ips and vif.network.cidr:
        # A legacy network's fixed IP.
        address, netmask, gateway = vif.fixed_ips[0], vif.network.netmask, vif.network.gateway
        dhcp = False
    else:
        return entry
    entry.update(
        type="ipv4_dhcp" if dhcp else "ipv4",
        ip_address=address,
        netmask=netmask or "255.255.255.0",
        routes=_routes(gateway),
        services=[],
    )
    return entry


def network_data(network_info: model.NetworkInfo) -> dict:
    """Return network_data.json of the VIFs, in VIF order."""
    links = [
        {
            "id": link_id(vif),
            "vif_id": vif.id,
            "type": vif.vif_type or "ethernet",
            "ethernet_mac_address": vif.address,
            "mtu": int(vif.configuration["mtu"]) if vif.configuration.get("mtu") else None,
        }
        for vif in network_info
    ]
    networks = [_network(index, vif) for index, vif in enumerate(network_info)]
    return {"links": links, "networks": networks, "services": []}


def meta_data(
    instance: driver.Instance, metadata: Mapping[str, str], keys: Mapping[str, str]
) -> dict:
    """Return meta_data.json of ``instance`` (``keys``: key pair name -> public key)."""
    return {
        "uuid": instance.uuid,
        "name": instance.display_name or "",
        "hostname": sanitize_hostname(instance.display_name),
        "meta": dict(metadata),
        "public_keys": dict(keys),
        "keys": [{"name": name, "type": "ssh", "data": data} for name, data in keys.items()],
        "availability_zone": getattr(instance, "availability_zone", None) or "nova",
        "launch_index": getattr(instance, "launch_index", None) or 0,
        "project_id": getattr(instance, "project_id", None),
        "devices": [],
    }


@dataclasses.dataclass
class ConfigDrive:
    """The files of one guest's config drive, by path inside the volume."""

    files: dict[str, bytes]

    @classmethod
    def for_instance(
        cls,
        instance: driver.Instance,
        network_info: model.NetworkInfo,
        metadata: Mapping[str, str] | None = None,
    ) -> ConfigDrive:
        """Return the config drive of ``instance`` with its server metadata and VIFs."""
        keys = {}
        key_name = getattr(instance, "key_name", None)
        key_data = getattr(instance, "key_data", None)
        if key_name and key_data:
            keys[key_name] = key_data
        files = {
            f"{LATEST}/meta_data.json": _json(meta_data(instance, metadata or {}, keys)),
            f"{LATEST}/network_data.json": _json(network_data(network_info)),
            f"{LATEST}/vendor_data.json": b"{}",
            f"{LATEST}/vendor_data2.json": b"{}",
        }
        user_data = getattr(instance, "user_data", None)
        if user_data:
            try:  # Nova keeps user_data base64-encoded, as the API took it
                files[f"{LATEST}/user_data"] = base64.b64decode(user_data, validate=True)
            except (binascii.Error, ValueError):
                files[f"{LATEST}/user_data"] = user_data.encode()
        return cls(files)

    def write(self, path: str) -> None:
        """Write the ISO9660 volume (labelled ``config-2``) to ``path``."""
        iso = pycdlib.PyCdlib()
        # Level 4 (ISO9660:1999) keeps the names as they are; Rock Ridge and
        # Joliet carry them for Linux and other readers.
        iso.new(interchange_level=4, joliet=3, rock_ridge="1.09", vol_ident=VOLUME_LABEL)
        directories: set[str] = set()
        try:
            for name in sorted(self.files):
                parts = name.split("/")
                for depth in range(1, len(parts)):
                    directory = "/".join(parts[:depth])
                    if directory not in directories:
                        directories.add(directory)
                        iso.add_directory(
                            "/" + directory, rr_name=parts[depth - 1], joliet_path="/" + directory
                        )
                data = self.files[name]
                iso.add_fp(
                    io.BytesIO(data),
                    len(data),
                    "/" + name,
                    rr_name=parts[-1],
                    joliet_path="/" + name,
                )
            partial = path + ".part"
            iso.write(partial)
            os.replace(partial, path)
        finally:
            iso.close()


def _json(value: object) -> bytes:
    return json.dumps(value, sort_keys=True).encode()
