"""The quantum backend of Nova's network API.

A VIF on Quantum is a ``virtual_interfaces`` row with no ``network_id``,
naming its port (``port_id``) and network (``network_uuid``). Allocation
attaches the VIF's uuid to the port as the interface-id: the logical
binding. Compute reads the port's details, with its ``configuration``,
before it writes the domain XML.

One owner per port: compute binds a VIF only if its port's attachment is
that VIF (``bind_for_host``), and a delete detaches (and deletes) a port only
while the attachment is its own VIF's, so someone else's attachment made
meanwhile survives. Quantum v1.1 has no conditional detach: the check and
the detach are two calls.

A port on a network with a subnet holds one fixed IP (Quantum allocates it
when the port is made, or takes the one a server create asks for); the
network info carries it (``VIF.fixed_ips``; the subnet's ``cidr``,
``netmask``, ``prefixlen``, ``gateway`` and ``dhcp_server`` are keys of the
port's configuration) and the servers' views show it
(``get_addresses``: one Quantum call per network of the servers listed).
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import threading
import time
from collections.abc import Callable
from collections.abc import Sequence

import nova.conf
from nova import context as nova_context
from nova import exception
from nova import keystone
from nova.db import records
from nova.db import virtual_interfaces as vif_db
from nova.network import api as network_api
from nova.network import http
from nova.network import model
from nova.network.quantum import client as quantum_client
from nova.network.quantum import embedded

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)


class Retries:
    """Calls to repeat in the background until they succeed, or give up after a while.

    For what must not be left undone when the network service cannot do it
    now (a port Nova made for an allocation that failed): one daemon
    thread, started at the first call added, tries each every ``interval``
    seconds for ``give_up_after`` seconds, then logs an ERROR naming it.
    Kept in memory: a restart forgets them (the ERROR lines name each one).
    """

    def __init__(self, interval: float = 5.0, give_up_after: float = 600.0) -> None:
        self.interval = interval
        self.give_up_after = give_up_after
        self._pending: list[tuple[str, Callable[[], None], float]] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, what: str, call: Callable[[], None]) -> None:
        """Repeat ``call`` (a description ``what`` for the log) until it returns."""
        with self._lock:
            self._pending.append((what, call, time.monotonic() + self.give_up_after))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="retries", daemon=True)
                self._thread.start()

    def pending(self) -> list[str]:
        """Return what is still to be done."""
        with self._lock:
            return [what for what, _, _ in self._pending]

    def _run(self) -> None:
        while True:
            self._wake.wait(self.interval)
            self._wake.clear()
            with self._lock:
                due = list(self._pending)  # each stays pending until done or given up
            for item in due:
                what, call, deadline = item
                try:
                    call()
                except Exception as exc:  # noqa: BLE001 - tried again, or given up on
                    if time.monotonic() < deadline:
                        continue
                    LOG.error("Gave up retrying %s: %s", what, exc)
                else:
                    LOG.info("Retried %s: done", what)
                with self._lock:
                    self._pending.remove(item)


def _port_state(port: dict) -> str | None:
    """Return a Quantum port's operational status as Neutron (and os-interface) names it."""
    # Quantum's op-status (UP/DOWN) became Neutron's status (ACTIVE/DOWN).
    status = port.get("op-status")
    if status is None:
        return port.get("state")
    return {"UP": "ACTIVE"}.get(status, status)


#: The process's retries of port releases.
RETRIES = Retries()


class QuantumAPI(network_api.NetworkAPI):
    """Ports on the reference Quantum v1.1 service at ``[quantum] url``.

    With a ``[quantum]`` service user (``auth_type``), calls made for a user
    carry the user's token; the background retries, and calls whose user
    token Quantum refuses, the service user's (``nova.keystone``).
    """

    supports_hotplug = True

    def __init__(self, client: quantum_client.QuantumClient | None = None) -> None:
        self.client = client or quantum_client.QuantumClient(
            CONF.quantum.url,
            CONF.quantum.auth_token,
            timeout=CONF.quantum.timeout,
            connect_retries=CONF.quantum.connect_retries,
            app=embedded.running_app() if CONF.quantum.embedded else None,
            auth=keystone.ServiceAuth(
                CONF,
                "quantum",
                CONF.quantum.auth_token,
                user_tokens=CONF.api.auth_strategy == "keystone",
            ),
        )

    # --- validation ----------------------------------------------------------------

    def _find_port(self, tenant_id: str, port_id: str, network_id: str | None) -> str:
        """Return the network of port ``port_id`` among the tenant's networks.

        :raises nova.exception.PortNotFound: the tenant has no such port.
        """
        if network_id:
            self.client.show_port_detail(tenant_id, network_id, port_id)
            return network_id
        for network in self.client.list_networks(tenant_id):
            try:
                self.client.show_port_detail(tenant_id, network["id"], port_id)
            except exception.PortNotFound:
                continue
            return network["id"]
        raise exception.PortNotFound(port_id=port_id)

    @http.on_behalf
    def validate_networks(
        self,
        context: nova_context.RequestContext,
        requested: Sequence[model.RequestedNetwork] | None,
        max_count: int,
    ) -> None:
        """Check requested networks and ports exist in the project and ports are free."""
        network_ids = None  # the project's, listed once if a network is requested
        for entry in requested or ():
            if entry.fixed_ip and not entry.port_id:
                self._validate_fixed_ip(context, entry, max_count)
            elif entry.port_id:
                if max_count > 1:
                    raise exception.Invalid(
                        reason=f"port {entry.port_id} can serve one server only; "
                        "max_count must be 1"
                    )
                tenant_id = network_api.project_of(context)
                network_id = self._find_port(tenant_id, entry.port_id, entry.network_id)
                port = self.client.show_port_detail(tenant_id, network_id, entry.port_id)
                if port.get("attachment"):
                    raise exception.PortInUse(port_id=entry.port_id)
            elif entry.network_id:
                if network_ids is None:
                    tenant_id = network_api.project_of(context)
                    network_ids = set(self.client.list_network_ids(tenant_id))
                if entry.network_id not in network_ids:
                    raise exception.NetworkNotFound(network_id=entry.network_id)

    def _validate_fixed_ip(
        self, context: nova_context.RequestContext, entry: model.RequestedNetwork, max_count: int
    ) -> None:
        """Check a requested fixed IP: one server, a network with a subnet holding the address.

        Whether it is free is Quantum's to say when the port is made (atomically).
        """
        if max_count > 1:
            raise exception.Invalid(
                reason="max_count cannot be greater than 1 if an fixed_ip is specified."
            )
        if not entry.network_id:
            raise exception.Invalid(reason=f"fixed_ip {entry.fixed_ip} names no network")
        tenant_id = network_api.project_of(context)
        subnet = self.client.show_network(tenant_id, entry.network_id).get("subnet")
        if not subnet:
            raise exception.Invalid(
                reason=f"network {entry.network_id} has no subnet for fixed_ip {entry.fixed_ip}"
            )
        try:
            inside = ipaddress.ip_address(entry.fixed_ip or "") in ipaddress.ip_network(
                subnet["cidr"]
            )
        except ValueError:
            inside = False
        if not inside:
            raise exception.Invalid(
                reason=f"fixed_ip {entry.fixed_ip} is not in network {entry.network_id}'s "
                f"subnet {subnet['cidr']}"
            )

    # --- allocation ----------------------------------------------------------------

    def _default_request(self, tenant_id: str) -> list[model.RequestedNetwork]:
        return [
            model.RequestedNetwork(network_id=network["id"])
            for network in self.client.list_networks(tenant_id)
        ]

    @http.on_behalf
    def allocate_for_instance(
        self,
        context: nova_context.RequestContext,
        instance: records.Instance,
        requested: Sequence[model.RequestedNetwork] | None,
    ) -> list[records.VirtualInterface]:
        """Make or reuse a port per entry, create the VIFs at once, attach each VIF to its port."""
        tenant_id = network_api.project_of(instance)
        entries = self._default_request(tenant_id) if requested is None else list(requested)
        done: list[tuple[str, str, bool, bool]] = []  # network, port, preserve, attached
        vifs: list[records.VirtualInterface] = []
        try:
            # The ports first, then every VIF in one transaction, then the attachments.
            for entry in entries:
                if entry.port_id:
                    network_id = self._find_port(tenant_id, entry.port_id, entry.network_id)
                    done.append((network_id, entry.port_id, True, False))
                elif entry.network_id:
                    port_id = self.client.create_port(
                        tenant_id, entry.network_id, fixed_ip=entry.fixed_ip
                    )
                    done.append((entry.network_id, port_id, False, False))
                else:
                    raise exception.Invalid(reason="a network entry names no network or port")
            vifs = vif_db.virtual_interfaces_create(
                context,
                [
                    {
                        "instance_id": instance.id,
                        "network_id": None,
                        "port_id": port_id,
                        "network_uuid": network_id,
                        "preserve_on_delete": preserve,
                    }
                    for network_id, port_id, preserve, _attached in done
                ],
            )
            for index, vif in enumerate(vifs):
                network_id, port_id, preserve, _attached = done[index]
                self.client.attach(tenant_id, network_id, port_id, vif.uuid)
                done[index] = (network_id, port_id, preserve, True)
                LOG.debug(
                    "Attached VIF %s of instance %s to port %s on network %s",
                    vif.uuid,
                    instance.uuid,
                    port_id,
                    network_id,
                )
        except Exception:
            LOG.warning("Allocation for instance %s failed; undoing it", instance.uuid)
            self._undo(context, instance, done)
            raise
        return vifs

    @http.on_behalf
    def allocate_port_for_instance(
        self,
        context: nova_context.RequestContext,
        instance: records.Instance,
        requested: model.RequestedNetwork,
    ) -> records.VirtualInterface:
        """Make (on a network) or check (free, the project's) a port, add a VIF, attach it."""
        tenant_id = network_api.project_of(instance)
        done: list[tuple[str, str, bool, bool]] = []
        vif = None
        try:
            if requested.port_id:
                network_id = self._find_port(tenant_id, requested.port_id, requested.network_id)
                port = self.client.show_port_detail(tenant_id, network_id, requested.port_id)
                if port.get("attachment"):
                    raise exception.PortInUse(port_id=requested.port_id)
                done.append((network_id, requested.port_id, True, False))
            elif requested.network_id:
                if requested.network_id not in set(self.client.list_network_ids(tenant_id)):
                    raise exception.NetworkNotFound(network_id=requested.network_id)
                port_id = self.client.create_port(
                    tenant_id, requested.network_id, fixed_ip=requested.fixed_ip
                )
                done.append((requested.network_id, port_id, False, False))
            else:
                raise exception.Invalid(reason="Must input network_id or port_id")
            network_id, port_id, preserve, _ = done[0]
            (vif,) = vif_db.virtual_interfaces_create(
                context,
                [
                    {
                        "instance_id": instance.id,
                        "network_id": None,
                        "port_id": port_id,
                        "network_uuid": network_id,
                        "preserve_on_delete": preserve,
                    }
                ],
            )
            self.client.attach(tenant_id, network_id, port_id, vif.uuid)
            done[0] = (network_id, port_id, preserve, True)
        except Exception:
            LOG.warning("Attaching a port to instance %s failed; undoing it", instance.uuid)
            for network_id, port_id, preserve, attached in done:
                try:
                    self._release_port(tenant_id, network_id, port_id, preserve, attached)
                except exception.NetworkServiceUnavailable as exc:
                    LOG.warning("Could not release port %s now (%s); retrying", port_id, exc)
                    RETRIES.add(
                        f"port {port_id}",
                        functools.partial(
                            self._release_port, tenant_id, network_id, port_id, preserve, attached
                        ),
                    )
            if vif is not None:
                vif_db.virtual_interface_delete(context, vif.id)
            raise
        LOG.info("Attached VIF %s of instance %s to port %s", vif.uuid, instance.uuid, port_id)
        return vif

    @http.on_behalf
    def deallocate_port_for_instance(
        self, context: nova_context.RequestContext, instance: records.Instance, port_id: str
    ) -> None:
        """Detach the port from the instance's VIF (delete it if Nova made it), drop the VIF."""
        tenant_id = network_api.project_of(instance)
        for vif in vif_db.virtual_interface_get_by_instance(context, instance.id):
            if vif.port_id == port_id:
                break
        else:
            raise exception.PortNotFound(port_id=port_id)
        network_id, _ = network_api.port_of(vif)
        try:
            port = self.client.show_port_detail(tenant_id, network_id, port_id)
        except (exception.PortNotFound, exception.NetworkNotFound):
            port = None
        if port is not None:
            attachment = (port.get("attachment") or {}).get("id")
            if attachment in (None, vif.uuid):
                self._release_port(
                    tenant_id,
                    network_id,
                    port_id,
                    vif.preserve_on_delete,
                    attached=attachment is not None,
                )
            else:
                LOG.warning("Port %s is attached to %s now: left alone", port_id, attachment)
        vif_db.virtual_interface_delete(context, vif.id)
        LOG.info("Detached port %s from instance %s", port_id, instance.uuid)

    def _release_port(
        self, tenant_id: str, network_id: str, port_id: str, preserve: bool, attached: bool
    ) -> None:
        """Detach a port and delete it if Nova made it; tolerate what is gone."""
        try:
            if attached:
                self.client.detach(tenant_id, network_id, port_id)
            if not preserve:
                self.client.delete_port(tenant_id, network_id, port_id)
        except (exception.PortNotFound, exception.NetworkNotFound):
            LOG.info("Port %s on network %s is already gone", port_id, network_id)

    def _undo(self, context, instance, done) -> None:
        """Release the ports of a failed allocation (later, if the service cannot now).

        Runs while the allocation's error propagates: nothing here replaces it.
        """
        for network_id, port_id, preserve, attached in reversed(done):
            release = functools.partial(
                self._release_port, instance.project_id, network_id, port_id, preserve, attached
            )
            try:
                release()
            except exception.NetworkServiceUnavailable as exc:
                # Its database locked or full, say: a port Nova made must not
                # be left behind for good.
                LOG.warning("Could not release port %s now (%s); retrying", port_id, exc)
                RETRIES.add(f"port {port_id}", release)
            except exception.NovaException:
                LOG.exception("Could not release port %s while undoing", port_id)
        try:
            vif_db.virtual_interface_delete_by_instance(context, instance.id)
        except Exception:  # noqa: BLE001 - e.g. Nova's own database full: the VIFs go
            # with the instance, which the caller deletes (or its audit does).
            LOG.exception("Could not delete the VIFs of %s while undoing", instance.uuid)

    # --- network info ------------------------------------------------------------

    @http.on_behalf
    def get_instance_nw_info(
        self, context: nova_context.RequestContext, instance: records.Instance
    ) -> model.NetworkInfo:
        """Return each VIF with its port's details, read from Quantum now."""
        return self._nw_info(context, instance, owned=False)

    @http.on_behalf
    def bind_for_host(
        self, context: nova_context.RequestContext, instance: records.Instance, host: str
    ) -> model.NetworkInfo:
        """Return the network info once each port is seen attached to its VIF.

        :raises nova.exception.PortAttachedElsewhere: a port's attachment is
            not this instance's VIF (re-attached in Quantum meanwhile).
        """
        return self._nw_info(context, instance, owned=True)

    def _nw_info(self, context, instance: records.Instance, owned: bool) -> model.NetworkInfo:
        tenant_id = network_api.project_of(instance)
        vifs = vif_db.virtual_interface_get_by_instance(context, instance.id)
        labels: dict[str, str | None] = {}
        if len({vif.network_uuid for vif in vifs}) > 1:
            # One call names them all (one network: showing it is cheaper).
            labels = {n["id"]: n.get("name") for n in self.client.list_networks(tenant_id)}
        info = []
        for vif in vifs:
            network_id, port_id = network_api.port_of(vif)
            port = self.client.show_port_detail(tenant_id, network_id, port_id)
            attachment = (port.get("attachment") or {}).get("id")
            if attachment != vif.uuid:
                if owned:
                    raise exception.PortAttachedElsewhere(
                        port_id=port_id,
                        attachment=attachment or "nothing",
                        vif_id=vif.uuid,
                        instance_id=instance.uuid,
                    )
                LOG.warning(
                    "Port %s is attached to %s, not to VIF %s", port_id, attachment, vif.uuid
                )
            if network_id not in labels:
                labels[network_id] = self.client.show_network(tenant_id, network_id).get("name")
            configuration = dict(port.get("configuration") or {})
            fixed_ip = port.get("fixed_ip")
            info.append(
                model.VIF(
                    id=vif.uuid,
                    address=vif.address,
                    # No cidr/gateway on the Network: those ask the VIF
                    # drivers for the legacy nwfilter; the subnet is in the
                    # configuration keys.
                    network=model.Network(id=network_id, label=labels[network_id]),
                    fixed_ips=(fixed_ip,) if fixed_ip else (),
                    port_id=port_id,
                    configuration=configuration,
                    preserve_on_delete=vif.preserve_on_delete,
                )
            )
        return info

    @http.on_behalf
    def list_interfaces(
        self, context: nova_context.RequestContext, instance: records.Instance
    ) -> list[model.Interface]:
        """Return the instance's ports in VIF order, each with its fixed IP (no subnet id)."""
        tenant_id = network_api.project_of(instance)
        interfaces = []
        for vif in vif_db.virtual_interface_get_by_instance(context, instance.id):
            network_id, port_id = network_api.port_of(vif)
            port = self.client.show_port_detail(tenant_id, network_id, port_id)
            interfaces.append(
                model.Interface(
                    port_id=port_id,
                    net_id=network_id,
                    mac_addr=vif.address,
                    port_state=_port_state(port),
                    fixed_ips=((None, port["fixed_ip"]),) if port.get("fixed_ip") else (),
                )
            )
        return interfaces

    @http.on_behalf
    def get_addresses(
        self, context: nova_context.RequestContext, instances: Sequence[records.InstanceView]
    ) -> dict[int, list[model.Address]]:
        """Return each instance's fixed IPs: its VIFs (one query), one Quantum call per network.

        Each network of the instances' VIFs is read once with its ports
        (``GET .../networks/{id}/detail``: its name and every port's
        ``fixed_ip`` and attachment), whatever the number of servers, each
        call waiting ``[quantum] addresses_timeout`` at most. A port's address
        counts while the port is attached to the VIF.

        :raises nova.exception.NetworkServiceUnavailable: no answer in time.
        """
        projects = {instance.id: instance.project_id for instance in instances}
        # (VIF, (tenant, network id)) of every VIF on a Quantum port, in VIF order.
        placed: list[tuple[records.VirtualInterface, tuple[str, str]]] = []
        for vif in vif_db.virtual_interfaces_get_by_instances(context, list(projects)):
            tenant_id = projects.get(vif.instance_id)
            if vif.port_id and vif.network_uuid and tenant_id:
                placed.append((vif, (tenant_id, vif.network_uuid)))
        networks: dict[tuple[str, str], dict] = {}
        for _vif, key in placed:
            if key not in networks:
                try:
                    networks[key] = self.client.show_network_detail(
                        *key, timeout=CONF.quantum.addresses_timeout
                    )
                except exception.NetworkNotFound:
                    networks[key] = {}
        ports = {
            (key, port["id"]): port
            for key, network in networks.items()
            for port in network.get("ports") or ()
        }
        addresses: dict[int, list[model.Address]] = {}
        for vif, key in placed:
            port = ports.get((key, vif.port_id or ""))
            if not port or not port.get("fixed_ip"):
                continue
            if (port.get("attachment") or {}).get("id") != vif.uuid:
                continue
            label = str(networks[key].get("name") or key[1])
            addresses.setdefault(vif.instance_id, []).append(
                (label, str(port["fixed_ip"]), vif.address)
            )
        return addresses

    @http.on_behalf
    def deallocate_for_instance(
        self, context: nova_context.RequestContext, instance: records.Instance
    ) -> None:
        """Detach the ports attached to this instance's VIFs; delete the ones Nova made.

        A port attached to something else now is left as it is (attachment
        and port), with a warning: it has another owner.
        """
        tenant_id = network_api.project_of(instance)
        for vif in vif_db.virtual_interface_get_by_instance(context, instance.id):
            network_id, port_id = network_api.port_of(vif)
            try:
                port = self.client.show_port_detail(tenant_id, network_id, port_id)
            except (exception.PortNotFound, exception.NetworkNotFound):
                LOG.info("Port %s on network %s is already gone", port_id, network_id)
                continue
            attachment = (port.get("attachment") or {}).get("id")
            if attachment not in (None, vif.uuid):
                LOG.warning(
                    "Port %s of instance %s is attached to %s, not to its VIF %s; "
                    "leaving the port and its attachment alone",
                    port_id,
                    instance.uuid,
                    attachment,
                    vif.uuid,
                )
                continue
            self._release_port(
                tenant_id,
                network_id,
                port_id,
                vif.preserve_on_delete,
                attached=attachment is not None,
            )
        vif_db.virtual_interface_delete_by_instance(context, instance.id)
        LOG.info("Released the network of instance %s", instance.uuid)
