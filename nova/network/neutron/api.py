"""The neutron backend of Nova's network API.

A VIF's uuid is its Neutron port's id (the interface-id Neutron's agents
look for) and its MAC is the port's. Compute binds the ports to its host
(``binding:host_id``) before it builds the domain; the port's
``binding:vif_type`` and ``binding:vif_details`` become the same
configuration keys the Quantum plugins give, so the VIF drivers do not care
which service they came from.

One owner per port: a port's ``device_id`` names the instance it serves.
Compute binds a port only while its ``device_id`` is its instance's (or
empty), and a delete unbinds or deletes only the ports still naming it, so a
port handed to another device meanwhile is left alone. (The check and the
write are two calls: Neutron's ``If-Match`` revision checks need its
``revisions`` service plugin, which a deployment may not load.)
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import nova.conf
from nova import context as nova_context
from nova import exception
from nova import keystone
from nova.db import records
from nova.db import virtual_interfaces as vif_db
from nova.network import api as network_api
from nova.network import model
from nova.network.neutron import client as neutron_client

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)

# Neutron's vif_type -> Nova's configuration vif_type.
_VIF_TYPES = {
    "ovs": model.VIF_TYPE_OVS,
    "bridge": model.VIF_TYPE_BRIDGE,
    "tap": model.VIF_TYPE_ETHERNET,
    "vhostuser": model.VIF_TYPE_VHOSTUSER,
}
_UNBOUND = "unbound"
# Listing the ports of many servers: device ids per call (the URL stays a few KiB).
_DEVICES_PER_CALL = 50
_PORT_FIELDS = (
    "id",
    "device_id",
    "network_id",
    "mac_address",
    "fixed_ips",
    "status",
    "created_at",
)
_DETAIL_KEYS = (
    "port_filter",
    "ovs_hybrid_plug",
    "datapath_type",
    "vlan",
    "vhostuser_socket",
    "vhostuser_mode",
)


def _text(value) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def configuration_from_binding(port: dict) -> dict[str, str]:
    """Map a port's ``binding:vif_type``/``binding:vif_details`` to VIF configuration.

    An unbound port maps to ``{"vif_type": "unbound"}``.

    :raises nova.exception.PortBindingFailed: the binding failed or its type
        has no VIF driver.
    """
    vif_type = port.get("binding:vif_type") or _UNBOUND
    host = port.get("binding:host_id") or "<none>"
    if vif_type == _UNBOUND:
        return {model.VIF_TYPE: _UNBOUND}
    if vif_type == "binding_failed":
        raise exception.PortBindingFailed(
            port_id=port["id"],
            host=host,
            reason="Neutron has no mechanism driver that can bind it there "
            "(binding:vif_type is binding_failed)",
        )
    if vif_type not in _VIF_TYPES:
        raise exception.PortBindingFailed(
            port_id=port["id"], host=host, reason=f"vif_type {vif_type!r} is not supported"
        )
    details = port.get("binding:vif_details") or {}
    configuration = {model.VIF_TYPE: _VIF_TYPES[vif_type]}
    if vif_type == "ovs":
        configuration["bridge"] = details.get("bridge_name") or "br-int"
    elif vif_type == "bridge":
        configuration["bridge"] = details.get("bridge_name") or ("brq" + port["network_id"])[:14]
    for key in _DETAIL_KEYS:
        if key in details:
            configuration[key] = _text(details[key])
    return configuration


class NeutronAPI(network_api.NetworkAPI):
    """Ports on a Neutron v2.0 service at ``[neutron] url``.

    With a ``[neutron]`` service user (``auth_type``) every call carries its
    token (Nova's admin client): the backend checks projects itself.
    """

    def __init__(self, client: neutron_client.NeutronClient | None = None) -> None:
        self.client = client or neutron_client.NeutronClient(
            CONF.neutron.url,
            CONF.neutron.auth_token,
            timeout=CONF.neutron.timeout,
            connect_retries=CONF.neutron.connect_retries,
            # Nova's admin client: this backend scopes by project itself and
            # binds ports to hosts, which Neutron lets only admins do.
            auth=keystone.ServiceAuth(CONF, "neutron", CONF.neutron.auth_token),
        )

    # --- lookups scoped to the project ---------------------------------------------

    def _port(self, project_id: str, port_id: str) -> dict:
        port = self.client.show_port(port_id)
        if port.get("project_id", port.get("tenant_id")) != project_id:
            raise exception.PortNotFound(port_id=port_id)
        return port

    def _network(self, project_id: str, network_id: str) -> dict:
        network = self.client.show_network(network_id)
        owner = network.get("project_id", network.get("tenant_id"))
        if owner != project_id and not network.get("shared"):
            raise exception.NetworkNotFound(network_id=network_id)
        return network

    def validate_networks(
        self,
        context: nova_context.RequestContext,
        requested: Sequence[model.RequestedNetwork] | None,
        max_count: int,
    ) -> None:
        """Check requested ports are the project's and free, networks visible to it."""
        for entry in requested or ():
            if entry.port_id:
                if max_count > 1:
                    raise exception.Invalid(
                        reason=f"port {entry.port_id} can serve one server only; "
                        "max_count must be 1"
                    )
                port = self._port(network_api.project_of(context), entry.port_id)
                if port.get("device_id"):
                    raise exception.PortInUse(port_id=entry.port_id)
            elif entry.network_id:
                self._network(network_api.project_of(context), entry.network_id)

    # --- allocation ----------------------------------------------------------------

    @staticmethod
    def _device_owner(instance: records.Instance) -> str:
        return f"compute:{instance.availability_zone or 'nova'}"

    def _default_request(self, project_id: str) -> list[model.RequestedNetwork]:
        return [
            model.RequestedNetwork(network_id=network["id"])
            for network in self.client.list_networks(project_id=project_id)
        ]

    def allocate_for_instance(
        self,
        context: nova_context.RequestContext,
        instance: records.Instance,
        requested: Sequence[model.RequestedNetwork] | None,
    ) -> list[records.VirtualInterface]:
        """Create or claim a port per entry and record a VIF for it (bound later)."""
        project_id = network_api.project_of(instance)
        entries = self._default_request(project_id) if requested is None else list(requested)
        owner = {"device_id": instance.uuid, "device_owner": self._device_owner(instance)}
        done: list[tuple[str, bool]] = []  # port, preserve
        vifs: list[records.VirtualInterface] = []
        try:
            for entry in entries:
                if entry.port_id:
                    port = self._port(project_id, entry.port_id)
                    if port.get("device_id"):
                        raise exception.PortInUse(port_id=entry.port_id)
                    port = self.client.update_port(entry.port_id, owner)
                    preserve = True
                else:
                    values: dict[str, object] = {
                        "network_id": entry.network_id,
                        "project_id": project_id,
                        **owner,
                    }
                    if entry.fixed_ip:
                        values["fixed_ips"] = [{"ip_address": entry.fixed_ip}]
                    port = self.client.create_port(values)
                    preserve = False
                done.append((port["id"], preserve))
                vif = vif_db.virtual_interface_create(
                    context,
                    {
                        "uuid": port["id"],
                        "address": port["mac_address"],
                        "instance_id": instance.id,
                        "network_id": None,
                        "port_id": port["id"],
                        "network_uuid": port["network_id"],
                        "preserve_on_delete": preserve,
                    },
                )
                vifs.append(vif)
        except Exception:
            LOG.warning("Allocation for instance %s failed; undoing it", instance.uuid)
            for port_id, preserve in reversed(done):
                self._release_port(port_id, preserve)
            vif_db.virtual_interface_delete_by_instance(context, instance.id)
            raise
        return vifs

    def _release_port(self, port_id: str, preserve: bool, device_id: str | None = None) -> None:
        """Unbind a user's port or delete Nova's; tolerate a port already gone.

        :param device_id: release it only while it still serves this device
            (an instance uuid); a port another device took is left alone.
        """
        try:
            if device_id is not None:
                owner = self.client.show_port(port_id).get("device_id") or ""
                if owner not in ("", device_id):
                    LOG.warning(
                        "Port %s now serves device %s, not instance %s; leaving it alone",
                        port_id,
                        owner,
                        device_id,
                    )
                    return
            if preserve:
                self.client.update_port(
                    port_id, {"device_id": "", "device_owner": "", "binding:host_id": ""}
                )
            else:
                self.client.delete_port(port_id)
        except exception.PortNotFound:
            LOG.info("Port %s is already gone", port_id)

    # --- binding and network info -------------------------------------------------------

    def _vif(self, vif: records.VirtualInterface, port: dict, labels: dict) -> model.VIF:
        network_id = port["network_id"]
        if network_id not in labels:
            labels[network_id] = self.client.show_network(network_id).get("name")
        return model.VIF(
            id=vif.uuid,
            address=vif.address,
            network=model.Network(id=network_id, label=labels[network_id]),
            fixed_ips=tuple(ip["ip_address"] for ip in port.get("fixed_ips", ())),
            port_id=vif.port_id,
            configuration=configuration_from_binding(port),
            preserve_on_delete=vif.preserve_on_delete,
        )

    def bind_for_host(
        self, context: nova_context.RequestContext, instance: records.Instance, host: str
    ) -> model.NetworkInfo:
        """Bind every port of the instance to ``host``; return the bound network info.

        :raises nova.exception.PortBindingFailed: Neutron could not bind a
            port there (its binding is cleared again).
        :raises nova.exception.PortAttachedElsewhere: a port serves another
            device now (its ``device_id`` is not this instance's).
        """
        values = {
            "binding:host_id": host,
            "device_id": instance.uuid,
            "device_owner": self._device_owner(instance),
        }
        labels: dict = {}
        info = []
        for vif in vif_db.virtual_interface_get_by_instance(context, instance.id):
            _network_id, port_id = network_api.port_of(vif)
            owner = self.client.show_port(port_id).get("device_id") or ""
            if owner not in ("", instance.uuid):
                raise exception.PortAttachedElsewhere(
                    port_id=port_id, attachment=owner, vif_id=vif.uuid, instance_id=instance.uuid
                )
            port = self.client.update_port(port_id, values)
            try:
                info.append(self._vif(vif, port, labels))
            except exception.PortBindingFailed:
                self.client.update_port(port_id, {"binding:host_id": ""})
                raise
            LOG.info(
                "Bound port %s of instance %s to host %s as %s",
                vif.port_id,
                instance.uuid,
                host,
                port.get("binding:vif_type"),
            )
        return info

    def get_instance_nw_info(
        self, context: nova_context.RequestContext, instance: records.Instance
    ) -> model.NetworkInfo:
        """Return each VIF with the configuration its port's binding gives now."""
        labels: dict = {}
        return [
            self._vif(vif, self.client.show_port(network_api.port_of(vif)[1]), labels)
            for vif in vif_db.virtual_interface_get_by_instance(context, instance.id)
        ]

    def _instance_ports(self, device_ids: Sequence[str]) -> list[dict]:
        """Return the ports serving these devices (instance uuids), oldest first."""
        ports: list[dict] = []
        for start in range(0, len(device_ids), _DEVICES_PER_CALL):
            ports.extend(
                self.client.list_ports(
                    device_id=list(device_ids[start : start + _DEVICES_PER_CALL]),
                    fields=list(_PORT_FIELDS),
                )
            )
        ports.sort(key=lambda port: (port.get("created_at") or "", port["id"]))
        return ports

    def get_addresses(
        self, context: nova_context.RequestContext, instances: Sequence[records.InstanceView]
    ) -> dict[int, list[model.Address]]:
        """Return each instance's fixed IPs from its ports: one call for the ports, one for names.

        A port counts while its ``device_id`` names the instance (as when
        Nova allocated or bound it).
        """
        by_uuid = {instance.uuid: instance.id for instance in instances}
        if not by_uuid:
            return {}
        ports = [port for port in self._instance_ports(list(by_uuid)) if port.get("fixed_ips")]
        if not ports:
            return {}
        network_ids = sorted({port["network_id"] for port in ports})
        labels = {
            network["id"]: network.get("name") or network["id"]
            for network in self.client.list_networks(id=network_ids, fields=["id", "name"])
        }
        addresses: dict[int, list[model.Address]] = {}
        for port in ports:
            instance_id = by_uuid.get(port.get("device_id") or "")
            if instance_id is None:
                continue
            label = labels.get(port["network_id"], port["network_id"])
            for fixed_ip in port["fixed_ips"]:
                addresses.setdefault(instance_id, []).append(
                    (label, fixed_ip["ip_address"], port["mac_address"])
                )
        return addresses

    def list_interfaces(
        self, context: nova_context.RequestContext, instance: records.Instance
    ) -> list[model.Interface]:
        """Return the ports whose ``device_id`` is the instance, as Nova lists them."""
        return [
            model.Interface(
                port_id=port["id"],
                net_id=port["network_id"],
                mac_addr=port["mac_address"],
                port_state=port.get("status"),
                fixed_ips=tuple(
                    (ip.get("subnet_id"), ip["ip_address"]) for ip in port.get("fixed_ips", ())
                ),
            )
            for port in self._instance_ports([instance.uuid])
        ]

    def deallocate_for_instance(
        self, context: nova_context.RequestContext, instance: records.Instance
    ) -> None:
        """Unbind the user's ports, delete Nova's (those still serving it), soft-delete the VIFs."""
        for vif in vif_db.virtual_interface_get_by_instance(context, instance.id):
            self._release_port(
                network_api.port_of(vif)[1], vif.preserve_on_delete, device_id=instance.uuid
            )
        vif_db.virtual_interface_delete_by_instance(context, instance.id)
        LOG.info("Released the ports of instance %s", instance.uuid)
