"""Nova's quantum backend against the real reference Quantum server, over a socket."""

from __future__ import annotations

import http.server
import threading
import uuid

import nova.conf
from nova import context as nova_context
from nova import exception
from nova.db import instances as instance_db
from nova.db import virtual_interfaces as vif_db
from nova.network import model
from nova.network.quantum import api as quantum_api
from nova.network.quantum import client as quantum_client
from tests.fixtures import clients
from tests.fixtures import databases
from tests.fixtures import processes
from tests.fixtures import quantum as quantum_fixtures

CONF = nova.conf.CONF
TENANT = "demo"


class QuantumServerTestCase(databases.SchemaTestCase):
    """Nova's quantum backend (``self.api``) against a real Quantum server on a socket."""

    def setUp(self) -> None:
        super().setUp()
        self.quantum = quantum_fixtures.run_on_socket(self)
        CONF.set_override("url", self.quantum.url, group="quantum")
        self.addCleanup(CONF.clear_override, "url", group="quantum")
        self.api = quantum_api.QuantumAPI()
        self.addCleanup(self.api.client.close)
        self.context = nova_context.RequestContext("alice", TENANT)

    def admin(self, method: str, path: str, body=None, tenant: str = TENANT):
        """Drive Quantum directly, as an admin would."""
        return clients.quantum_admin(self, self.quantum.url, method, path, body, tenant)


class QuantumBackendTestCase(QuantumServerTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.instance = instance_db.instance_create(
            self.context, {"project_id": TENANT, "user_id": "alice", "display_name": "vm"}
        )

    # --- driving Quantum directly, as an admin would ---------------------------------

    def network(self, tenant: str = TENANT, **values) -> str:
        values.setdefault("name", "net")
        return self.admin("POST", "/networks", {"network": values}, tenant)["network"]["id"]

    def port(self, network_id: str, tenant: str = TENANT) -> str:
        return self.admin("POST", f"/networks/{network_id}/ports", {}, tenant)["port"]["id"]

    def port_detail(self, network_id: str, port_id: str, tenant: str = TENANT) -> dict:
        return self.admin("GET", f"/networks/{network_id}/ports/{port_id}/detail", tenant=tenant)[
            "port"
        ]

    def port_ids(self, network_id: str) -> list[str]:
        return [p["id"] for p in self.admin("GET", f"/networks/{network_id}/ports")["ports"]]

    # --- the tests -----------------------------------------------------------------

    def test_allocate_network_and_user_port_then_deallocate(self):
        bridge_net = self.network(name="lb")
        ovs_net = self.network(name="ovs", plugin="openvswitch")
        user_port = self.port(ovs_net)
        requested = [
            model.RequestedNetwork(network_id=bridge_net),
            model.RequestedNetwork(port_id=user_port),
        ]
        self.api.validate_networks(self.context, requested, max_count=1)

        made_rows = self.api.allocate_for_instance(self.context, self.instance, requested)
        info = self.api.get_instance_nw_info(self.context, self.instance)

        self.assertEqual([row.uuid for row in made_rows], [vif.id for vif in info])
        self.assertEqual([vif.network.id for vif in info], [bridge_net, ovs_net])
        self.assertEqual([vif.network.label for vif in info], ["lb", "ovs"])
        made, brought = info
        self.assertEqual(
            made.configuration, {"vif_type": "bridge", "bridge": ("brq" + bridge_net)[:15]}
        )
        self.assertEqual(brought.vif_type, "ovs")
        self.assertEqual(brought.configuration["bridge"], "br-int")
        self.assertEqual(brought.port_id, user_port)
        self.assertEqual((made.preserve_on_delete, brought.preserve_on_delete), (False, True))
        # The logical binding: each port is attached to its VIF's uuid.
        for vif in info:
            detail = self.port_detail(vif.network.id, vif.port_id)
            self.assertEqual(detail["attachment"], {"id": vif.id})
        rows = vif_db.virtual_interface_get_by_instance(self.context, self.instance.id)
        self.assertEqual(
            [(r.network_id, r.port_id) for r in rows], [(None, made.port_id), (None, user_port)]
        )
        self.assertEqual(self.api.bind_for_host(self.context, self.instance, "host1"), info)

        self.api.deallocate_for_instance(self.context, self.instance)

        self.assertEqual(self.port_ids(bridge_net), [])  # made by Nova: deleted
        self.assertEqual(self.port_ids(ovs_net), [user_port])  # the user's: kept ...
        self.assertEqual(self.port_detail(ovs_net, user_port)["attachment"], {})  # ... detached
        self.assertEqual(
            vif_db.virtual_interface_get_by_instance(self.context, self.instance.id), []
        )
        # Deallocating again tolerates what is gone.
        self.api.deallocate_for_instance(self.context, self.instance)

    def test_a_port_attached_elsewhere_is_neither_bound_nor_released(self):
        network = self.network()
        user_port = self.port(network)
        requested = [
            model.RequestedNetwork(network_id=network),
            model.RequestedNetwork(port_id=user_port),
        ]
        made, _brought = self.api.allocate_for_instance(self.context, self.instance, requested)
        for port, intruder in ((made.port_id, "intruder-1"), (user_port, "intruder-2")):
            path = f"/networks/{network}/ports/{port}/attachment"
            self.admin("DELETE", path)
            self.admin("PUT", path, {"attachment": {"id": intruder}})

        with self.assertRaisesRegex(
            exception.PortAttachedElsewhere,
            f"Port {made.port_id} is attached to intruder-1, not to VIF {made.uuid}",
        ):
            self.api.bind_for_host(self.context, self.instance, "host1")
        # Reading (as a delete does) still works, with a warning.
        self.assertEqual(len(self.api.get_instance_nw_info(self.context, self.instance)), 2)

        self.api.deallocate_for_instance(self.context, self.instance)

        self.assertEqual(sorted(self.port_ids(network)), sorted([made.port_id, user_port]))
        self.assertEqual(
            self.port_detail(network, made.port_id)["attachment"], {"id": "intruder-1"}
        )
        self.assertEqual(self.port_detail(network, user_port)["attachment"], {"id": "intruder-2"})
        self.assertEqual(
            vif_db.virtual_interface_get_by_instance(self.context, self.instance.id), []
        )

    def test_network_info_reads_each_port_and_names_networks_in_one_call(self):
        first, second = self.network(name="a"), self.network(name="b")
        requested = [
            model.RequestedNetwork(network_id=first),
            model.RequestedNetwork(network_id=second),
            model.RequestedNetwork(network_id=first),
        ]
        self.api.allocate_for_instance(self.context, self.instance, requested)
        self.admin("PUT", f"/networks/{second}", {"network": {"name": "renamed"}})
        calls = []
        real_call = self.api.client.call

        def counting_call(method, path, *args, **kwargs):
            calls.append((method, path.rsplit("/", 2)[-1]))
            return real_call(method, path, *args, **kwargs)

        self.api.client.call = counting_call
        info = self.api.get_instance_nw_info(self.context, self.instance)
        self.assertEqual([vif.network.label for vif in info], ["a", "renamed", "a"])
        self.assertEqual(calls, [("GET", "detail")] * 4)  # the network list, then each port
        # One network: it is shown instead of listing them all.
        single = instance_db.instance_create(
            self.context, {"project_id": TENANT, "user_id": "alice", "display_name": "one"}
        )
        self.api.allocate_for_instance(
            self.context, single, [model.RequestedNetwork(network_id=second)]
        )
        calls.clear()
        [vif] = self.api.get_instance_nw_info(self.context, single)
        self.assertEqual(vif.network.label, "renamed")
        self.assertEqual(calls, [("GET", "detail"), ("GET", second)])

    def test_default_is_one_vif_per_project_network(self):
        nets = [self.network(name=f"n{i}") for i in range(2)]
        self.network(tenant="other")
        rows = self.api.allocate_for_instance(self.context, self.instance, None)
        self.assertEqual([row.network_uuid for row in rows], nets)

    def test_no_nic(self):
        self.network()
        self.assertEqual(self.api.allocate_for_instance(self.context, self.instance, []), [])

    def test_configuration_set_by_admin_reaches_nova(self):
        net = self.network(
            plugin="8021qbh", configuration={"source_dev": "eth4", "profile_id": "gold"}
        )
        self.api.allocate_for_instance(
            self.context, self.instance, [model.RequestedNetwork(network_id=net)]
        )
        (vif,) = self.api.get_instance_nw_info(self.context, self.instance)
        self.assertEqual(
            vif.configuration, {"vif_type": "802.1qbh", "source_dev": "eth4", "profile_id": "gold"}
        )

    def test_validation(self):
        net = self.network()
        foreign_port = self.port(self.network(tenant="other"), tenant="other")
        attached = self.port(net)
        self.admin(
            "PUT", f"/networks/{net}/ports/{attached}/attachment", {"attachment": {"id": "x"}}
        )
        free = self.port(net)
        cases = [
            ([model.RequestedNetwork(port_id=foreign_port)], 1, exception.PortNotFound),
            ([model.RequestedNetwork(port_id=str(uuid.uuid4()))], 1, exception.PortNotFound),
            ([model.RequestedNetwork(port_id=attached)], 1, exception.PortInUse),
            ([model.RequestedNetwork(port_id=free)], 2, exception.Invalid),
            ([model.RequestedNetwork(network_id=str(uuid.uuid4()))], 1, exception.NetworkNotFound),
            ([model.RequestedNetwork(network_id=net, fixed_ip="10.0.0.5")], 1, exception.Invalid),
        ]
        for requested, max_count, error in cases:
            with self.subTest(requested=requested, max_count=max_count):
                with self.assertRaises(error):
                    self.api.validate_networks(self.context, requested, max_count)
        self.api.validate_networks(self.context, [model.RequestedNetwork(port_id=free)], 1)

    def test_failed_allocation_leaves_nothing_behind(self):
        net = self.network()
        taken = self.port(net)
        self.admin(
            "PUT", f"/networks/{net}/ports/{taken}/attachment", {"attachment": {"id": "other-vif"}}
        )
        requested = [model.RequestedNetwork(network_id=net), model.RequestedNetwork(port_id=taken)]

        with self.assertRaises(exception.PortInUse):
            self.api.allocate_for_instance(self.context, self.instance, requested)

        self.assertEqual(self.port_ids(net), [taken])  # the port Nova made is gone
        self.assertEqual(self.port_detail(net, taken)["attachment"], {"id": "other-vif"})
        self.assertEqual(
            vif_db.virtual_interface_get_by_instance(self.context, self.instance.id), []
        )


class _Counting500(http.server.BaseHTTPRequestHandler):
    calls = 0

    def do_POST(self):  # noqa: N802 - the http.server interface
        type(self).calls += 1
        self.send_response(500)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"quantumServiceFault": {"code": 500, "message": "boom"}}')

    def log_message(self, *args):
        pass


class QuantumClientTestCase(databases.DatabaseTestCase):
    def test_service_errors_are_not_retried(self):
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Counting500)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.shutdown)
        client = quantum_client.QuantumClient(
            f"http://127.0.0.1:{server.server_port}", "admin:admin", connect_retries=3
        )
        with self.assertRaisesRegex(exception.NetworkServiceError, "500.*boom"):
            client.create_port("t", "n")
        self.assertEqual(_Counting500.calls, 1)

    def test_unreachable_service(self):
        port = processes.free_port()
        client = quantum_client.QuantumClient(
            f"http://127.0.0.1:{port}", "admin:admin", timeout=2, connect_retries=2
        )
        with self.assertRaises(exception.NetworkServiceUnavailable):
            client.list_networks("t")
