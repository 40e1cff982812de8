"""os-interface attach/detach on a running server: API -> compute manager -> libvirt's test
driver (test:///default) and the real reference Quantum; errors write nothing."""

from __future__ import annotations

import shutil
import tempfile
from unittest import mock

import libvirt
from lxml import etree

import nova.conf
from nova import context as nova_context
from nova.compute import manager
from nova.compute import vm_states
from nova.db import instances as instance_db
from nova.db import services as service_db
from nova.db import virtual_interfaces as vif_db
from nova.virt.libvirt import driver as libvirt_driver
from tests.fixtures import api as api_fixtures
from tests.fixtures import hosts

CONF = nova.conf.CONF
ADMIN = nova_context.get_admin_context()
HOST = "compute1"


class HotPlugTestCase(api_fixtures.APITestCase):
    def setUp(self) -> None:
        super().setUp()
        state = tempfile.mkdtemp(prefix="nova-hotplug-")
        self.addCleanup(shutil.rmtree, state, ignore_errors=True)
        for name, value, group in (
            ("state_path", state, None),
            ("plug_vifs", False, "libvirt"),
        ):
            CONF.set_override(name, value, group=group)
            self.addCleanup(CONF.clear_override, name, group=group)
        hosts.add_compute_host(HOST)
        self.driver = libvirt_driver.LibvirtDriver(uri="test:///default")
        self.manager = manager.ComputeManager(host=HOST, driver=self.driver, scheduler=mock.Mock())
        # The compute host's RPC calls, made straight to its manager (the payload and the
        # exceptions are the ones oslo.messaging carries: tests/unit/test_rpc.py).
        for name in ("attach_interface", "detach_interface"):
            patcher = mock.patch(
                f"nova.compute.rpcapi.ComputeAPI.{name}",
                side_effect=self._on_host(getattr(self.manager, name)),
            )
            patcher.start()
            self.addCleanup(patcher.stop)

    @staticmethod
    def _on_host(method):
        def call(context, host, *args):
            try:
                return method(context, *args)
            except Exception as exc:  # oslo.messaging re-raises the expected exception
                inner = getattr(exc, "exc_info", None)
                if inner:
                    raise inner[1] from None
                raise

        return call

    def running_server(self, network: str) -> str:
        server_id = self.create_server(networks=[{"uuid": network}])
        placed = service_db.instance_claim(
            ADMIN,
            server_id,
            HOST,
            {"ram": 1.0, "cpu": 1.0, "disk": 1.0},
            (512, 1, 1),
            {"host": HOST},
            {"host": None},
        )
        self.manager.run_instance(ADMIN, placed.uuid)
        row = instance_db.instance_get_by_uuid(ADMIN, server_id)
        self.assertEqual(row.vm_state, vm_states.ACTIVE)
        self.addCleanup(self.manager.terminate_instance, ADMIN, server_id)
        return server_id

    def macs(self, server_id: str, flags: int = 0) -> list[str]:
        domain = self.driver.connection.lookupByUUIDString(server_id)
        root = etree.fromstring(domain.XMLDesc(flags).encode())
        return [m.get("address") for m in root.iterfind("./devices/interface/mac")]

    def test_attach_a_port_then_detach_it(self):
        network = self.quantum_network(plugin="linuxbridge")
        server_id = self.running_server(network)
        port = self.quantum_port(network)
        base = f"/v2.1/servers/{server_id}/os-interface"
        made = self.request("POST", base, {"interfaceAttachment": {"port_id": port}})
        self.assertEqual(made.status_int, 200, made.text)
        attachment = made.json["interfaceAttachment"]
        self.assertEqual(
            set(attachment), {"port_id", "net_id", "mac_addr", "port_state", "fixed_ips"}
        )
        self.assertEqual((attachment["port_id"], attachment["net_id"]), (port, network))
        vif = [
            v
            for v in vif_db.virtual_interface_get_by_instance(ADMIN, self.instance_id(server_id))
            if v.port_id == port
        ][0]
        self.assertEqual(vif.address, attachment["mac_addr"])
        self.assertEqual(self.attachment(network, port)["id"], vif.uuid)
        # Live and in the persistent definition.
        self.assertIn(vif.address, self.macs(server_id))
        self.assertIn(vif.address, self.macs(server_id, libvirt.VIR_DOMAIN_XML_INACTIVE))
        listed = self.request("GET", base).json["interfaceAttachments"]
        self.assertEqual(len(listed), 2)
        # The port is in use now: 409, nothing written.
        before = self.count("virtual_interfaces")
        again = self.request("POST", base, {"interfaceAttachment": {"port_id": port}})
        self.assertEqual(again.status_int, 409, again.text)
        self.assertEqual(again.json["conflictingRequest"]["code"], 409)
        self.assertEqual(self.count("virtual_interfaces"), before)

        gone = self.request("DELETE", f"{base}/{port}")
        self.assertEqual(gone.status_int, 202, gone.text)
        self.assertNotIn(vif.address, self.macs(server_id))
        self.assertNotIn(vif.address, self.macs(server_id, libvirt.VIR_DOMAIN_XML_INACTIVE))
        self.assertEqual(self.count("virtual_interfaces"), before - 1)
        # The user's port stays, unattached.
        self.assertIn(port, self.quantum_ports(network))
        self.assertEqual(self.attachment(network, port), {})
        self.assertEqual(self.request("DELETE", f"{base}/{port}").status_int, 404)

    def instance_id(self, server_id: str) -> int:
        return instance_db.instance_get_by_uuid(ADMIN, server_id).id

    def test_attach_on_a_network_makes_a_port_and_detach_deletes_it(self):
        network = self.quantum_network(plugin="linuxbridge")
        other = self.quantum_network(name="b", plugin="linuxbridge")
        server_id = self.running_server(network)
        base = f"/v2.1/servers/{server_id}/os-interface"
        made = self.request("POST", base, {"interfaceAttachment": {"net_id": other}})
        self.assertEqual(made.status_int, 200, made.text)
        port = made.json["interfaceAttachment"]["port_id"]
        self.assertIn(port, self.quantum_ports(other))
        self.assertEqual(len(self.macs(server_id)), 2)
        self.assertEqual(self.request("DELETE", f"{base}/{port}").status_int, 202)
        self.assertNotIn(port, self.quantum_ports(other))
        self.assertEqual(len(self.macs(server_id)), 1)

    def test_errors_write_nothing(self):
        network = self.quantum_network(plugin="linuxbridge")
        server_id = self.running_server(network)
        base = f"/v2.1/servers/{server_id}/os-interface"
        foreign_net = self.quantum_network(tenant="other")
        foreign_port = self.quantum_port(foreign_net, tenant="other")
        port = self.quantum_port(network)
        before = (self.count("virtual_interfaces"), self.quantum_ports(network))
        unknown = "00000000-0000-0000-0000-000000000000"
        for body, status in (
            ({"interfaceAttachment": {"port_id": foreign_port}}, 404),
            ({"interfaceAttachment": {"net_id": foreign_net}}, 404),
            ({"interfaceAttachment": {"port_id": unknown}}, 404),
            ({"interfaceAttachment": {"port_id": port, "net_id": network}}, 400),
            ({"interfaceAttachment": {"fixed_ips": [{"ip_address": "10.0.0.9"}]}}, 400),
            ({"interfaceAttachment": {}}, 400),
            ({"interfaceAttachment": {"port_id": "x", "bogus": 1}}, 400),
        ):
            with self.subTest(body=body):
                response = self.request("POST", base, body)
                self.assertEqual(response.status_int, status, response.text)
                fault = next(iter(response.json.values()))
                self.assertEqual(fault["code"], status)
        self.assertEqual(
            self.request(
                "POST", base, {"interfaceAttachment": {"port_id": port}}, token="mallory:other"
            ).status_int,
            404,
        )
        self.assertEqual(len(self.macs(server_id)), 1)
        self.assertEqual((self.count("virtual_interfaces"), self.quantum_ports(network)), before)
        # libvirt refuses the device: the VIF row, the attachment and the port go again.
        with mock.patch.object(
            self.driver, "_redefine", side_effect=libvirt.libvirtError("refused")
        ):
            failed = self.request("POST", base, {"interfaceAttachment": {"net_id": network}})
        self.assertEqual(failed.status_int, 500, failed.text)
        self.assertEqual((self.count("virtual_interfaces"), self.quantum_ports(network)), before)
        self.assertEqual(self.attachment(network, port), {})
        # Not ACTIVE: Nova's instance-state conflict.
        instance_db.instance_update(ADMIN, server_id, {"task_state": vm_states.DELETING})
        for method, path, body in (
            ("POST", base, {"interfaceAttachment": {"port_id": port}}),
            ("DELETE", f"{base}/{port}", None),
        ):
            response = self.request(method, path, body)
            self.assertEqual(response.status_int, 409, response.text)
        instance_db.instance_update(ADMIN, server_id, {"task_state": None})

    def test_a_backend_without_ports_is_501(self):
        network = self.quantum_network(plugin="linuxbridge")
        server_id = self.running_server(network)
        base = f"/v2.1/servers/{server_id}/os-interface"
        with mock.patch("nova.network.quantum.api.QuantumAPI.supports_hotplug", False):
            for method, path, body in (
                ("POST", base, {"interfaceAttachment": {"net_id": network}}),
                ("DELETE", f"{base}/{network}", None),
            ):
                response = self.request(method, path, body)
                self.assertEqual(response.status_int, 501, response.text)
                self.assertEqual(response.json["notImplemented"]["code"], 501)
