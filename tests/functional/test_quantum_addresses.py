"""Fixed IPs from the reference Quantum alone: Nova's network info, views, /ips, templates."""

from __future__ import annotations

import os
import socket
import tempfile
import time
from unittest import mock

from lxml import etree

import nova.conf
from nova import exception
from nova.db import instances as instance_db
from nova.network import model
from nova.network.quantum import api as quantum_api
from nova.network.quantum import client as quantum_client
from nova.virt.libvirt import vif as libvirt_vif
from tests.fixtures import api as api_fixtures
from tests.functional import test_quantum_backend

CONF = nova.conf.CONF
TENANT = "demo"


class QuantumAddressesTestCase(test_quantum_backend.QuantumServerTestCase):
    """Fixed IPs of Nova's quantum backend against a real Quantum server on a socket."""

    def network(self, **values) -> str:
        values.setdefault("name", "net")
        return self.admin("POST", "/networks", {"network": values})["network"]["id"]

    def instance(self, name: str = "vm"):
        return instance_db.instance_create(
            self.context, {"project_id": TENANT, "user_id": "alice", "display_name": name}
        )

    def test_network_info_and_interfaces_carry_the_fixed_ip_and_subnet(self):
        net = self.network(name="private", subnet={"cidr": "10.0.0.0/24"})
        bare = self.network(name="bare")
        instance = self.instance()
        requested = [
            model.RequestedNetwork(network_id=net, fixed_ip="10.0.0.77"),
            model.RequestedNetwork(network_id=net),
            model.RequestedNetwork(network_id=bare),
        ]
        self.api.validate_networks(self.context, requested, max_count=1)
        self.api.allocate_for_instance(self.context, instance, requested)
        asked, allocated, plain = self.api.get_instance_nw_info(self.context, instance)
        self.assertEqual(asked.fixed_ips, ("10.0.0.77",))
        self.assertEqual(allocated.fixed_ips, ("10.0.0.3",))
        self.assertEqual(plain.fixed_ips, ())
        self.assertEqual(
            {k: asked.configuration[k] for k in ("cidr", "gateway", "dhcp_server")},
            {"cidr": "10.0.0.0/24", "gateway": "10.0.0.1", "dhcp_server": "10.0.0.2"},
        )
        # The legacy nwfilter is not asked for: a Quantum VIF's Network has no L3 fields.
        self.assertIsNone(asked.network.cidr)
        interface = libvirt_vif.BridgeVIFDriver().get_config(instance, asked)
        self.assertNotIn("filterref", interface.to_xml())
        self.assertEqual(
            {key: asked.configuration[key] for key in ("ip_address", "netmask", "prefixlen")},
            {"ip_address": "10.0.0.77", "netmask": "255.255.255.0", "prefixlen": "24"},
        )
        interfaces = self.api.list_interfaces(self.context, instance)
        self.assertEqual(
            [i.fixed_ips for i in interfaces], [((None, "10.0.0.77"),), ((None, "10.0.0.3"),), ()]
        )
        # Deleting the server releases the addresses.
        self.api.deallocate_for_instance(self.context, instance)
        again = self.instance("again")
        self.api.allocate_for_instance(
            self.context, again, [model.RequestedNetwork(network_id=net, fixed_ip="10.0.0.77")]
        )
        (vif,) = self.api.get_instance_nw_info(self.context, again)
        self.assertEqual(vif.fixed_ips, ("10.0.0.77",))

    def test_requested_fixed_ip_checks_and_faults(self):
        net = self.network(subnet={"cidr": "10.0.0.0/29"})
        bare = self.network(name="bare")
        for entry, max_count, words in (
            (model.RequestedNetwork(network_id=net, fixed_ip="10.0.0.3"), 2, "max_count"),
            (model.RequestedNetwork(network_id=net, fixed_ip="10.9.0.3"), 1, "not in network"),
            (model.RequestedNetwork(network_id=net, fixed_ip="nonsense"), 1, "not in network"),
            (model.RequestedNetwork(network_id=bare, fixed_ip="10.0.0.3"), 1, "has no subnet"),
        ):
            with self.subTest(entry=entry), self.assertRaisesRegex(exception.Invalid, words):
                self.api.validate_networks(self.context, [entry], max_count)
        first = self.instance("first")
        self.api.allocate_for_instance(
            self.context, first, [model.RequestedNetwork(network_id=net, fixed_ip="10.0.0.3")]
        )
        second = self.instance("second")
        with self.assertRaises(exception.FixedIpAlreadyInUse):
            self.api.allocate_for_instance(
                self.context,
                second,
                [
                    model.RequestedNetwork(network_id=net),
                    model.RequestedNetwork(network_id=net, fixed_ip="10.0.0.3"),
                ],
            )
        # The failed allocation released the port it had made (10.0.0.4 is free again).
        ports = self.admin("GET", f"/networks/{net}/ports/detail")["ports"]
        self.assertEqual([p["fixed_ip"] for p in ports], ["10.0.0.3"])
        # /29: .3-.6 for ports; three more, then the pool is exhausted.
        self.api.allocate_for_instance(
            self.context, second, [model.RequestedNetwork(network_id=net)] * 3
        )
        with self.assertRaises(exception.NoMoreFixedIps):
            self.api.allocate_for_instance(
                self.context, self.instance("third"), [model.RequestedNetwork(network_id=net)]
            )

    def test_operator_template_renders_from_quantum_alone(self):
        net = self.network(subnet={"cidr": "192.168.50.0/24", "gateway_ip": "192.168.50.254"})
        instance = self.instance()
        self.api.allocate_for_instance(
            self.context, instance, [model.RequestedNetwork(network_id=net)]
        )
        (vif,) = self.api.get_instance_nw_info(self.context, instance)
        with tempfile.NamedTemporaryFile("w", suffix=".xml.j2", delete=False) as handle:
            handle.write(
                "<interface type='ethernet'><mac address='{{ mac }}'/>"
                "<target dev='{{ tap }}'/>"
                "<ip address='{{ ip_address }}' prefix='{{ prefixlen }}'/>"
                "<route family='ipv4' address='0.0.0.0' prefix='0' gateway='{{ gateway }}'/>"
                "<description>dhcp {{ dhcp_server }} mask {{ netmask }}</description>"
                "</interface>"
            )
        self.addCleanup(os.unlink, handle.name)
        driver = libvirt_vif.TemplateVIFDriver(template=handle.name)
        element = etree.fromstring(driver.get_config(instance, vif).to_xml())
        self.assertEqual(
            (element.find("ip").get("address"), element.find("ip").get("prefix")),
            ("192.168.50.2", "24"),
        )
        self.assertEqual(element.find("route").get("gateway"), "192.168.50.254")
        self.assertEqual(element.findtext("description"), "dhcp 192.168.50.1 mask 255.255.255.0")

    def test_addresses_of_many_servers_cost_one_call_per_network(self):
        first = self.network(name="first", subnet={"cidr": "10.1.0.0/24"})
        second = self.network(name="second", subnet={"cidr": "10.2.0.0/24"})
        bare = self.network(name="bare")
        instances = [self.instance(f"vm{i}") for i in range(6)]
        for instance in instances:
            self.api.allocate_for_instance(
                self.context,
                instance,
                [
                    model.RequestedNetwork(network_id=first),
                    model.RequestedNetwork(network_id=second),
                    model.RequestedNetwork(network_id=bare),
                ],
            )
        views = [instance_db.instance_get_by_uuid(self.context, i.uuid) for i in instances]
        real = quantum_client.QuantumClient.call
        with mock.patch.object(
            quantum_client.QuantumClient, "call", autospec=True, side_effect=real
        ) as call:
            addresses = self.api.get_addresses(self.context, views)  # type: ignore[arg-type]
        self.assertEqual(call.call_count, 3)  # one per network, whatever the servers
        macs = {
            instance.id: [
                vif.address for vif in self.api.get_instance_nw_info(self.context, instance)
            ]
            for instance in instances
        }
        for index, instance in enumerate(instances):
            self.assertEqual(
                addresses[instance.id],
                [
                    ("first", f"10.1.0.{3 + index}", macs[instance.id][0]),
                    ("second", f"10.2.0.{3 + index}", macs[instance.id][1]),
                ],
            )
        # A port re-attached elsewhere is no longer the server's address.
        (made, *_rest) = self.api.get_instance_nw_info(self.context, instances[0])
        path = f"/networks/{first}/ports/{made.port_id}/attachment"
        self.admin("DELETE", path)
        self.admin("PUT", path, {"attachment": {"id": "intruder"}})
        again = self.api.get_addresses(self.context, views[:1])  # type: ignore[arg-type]
        self.assertEqual([label for label, _, _ in again[instances[0].id]], ["second"])
        self.assertEqual(self.api.get_addresses(self.context, []), {})

    def test_a_stalled_service_costs_a_view_addresses_timeout_at_most(self):
        net = self.network(subnet={"cidr": "10.0.0.0/24"})
        instance = self.instance()
        self.api.allocate_for_instance(
            self.context, instance, [model.RequestedNetwork(network_id=net)]
        )
        view = instance_db.instance_get_by_uuid(self.context, instance.uuid)
        # A service that takes the connection and never answers (a frozen process).
        stalled = socket.socket()
        self.addCleanup(stalled.close)
        stalled.bind(("127.0.0.1", 0))
        stalled.listen(8)
        client = quantum_client.QuantumClient(
            f"http://127.0.0.1:{stalled.getsockname()[1]}", "alice:demo", timeout=30
        )
        self.addCleanup(client.close)
        CONF.set_override("addresses_timeout", 0.5, group="quantum")
        self.addCleanup(CONF.clear_override, "addresses_timeout", group="quantum")
        started = time.monotonic()
        with self.assertRaisesRegex(exception.NetworkServiceUnavailable, "timeout=0.5"):
            quantum_api.QuantumAPI(client).get_addresses(self.context, [view])  # type: ignore[list-item]
        self.assertLess(time.monotonic() - started, 5)


class ServerAddressesAPITestCase(api_fixtures.APITestCase):
    """The compute API's views and ``/ips`` with the reference-Quantum backend."""

    def test_views_and_ips_show_quantum_fixed_ips(self):
        self.quantum_network(name="private", subnet={"cidr": "10.0.0.0/24"})
        # A create allocates a port on each of the project's networks.
        servers = [self.create_server(name=f"vm{i}") for i in range(4)]
        shown = self.request("GET", f"/v2.1/servers/{servers[0]}").json["server"]["addresses"]
        ((entry,),) = shown.values()
        self.assertEqual(list(shown), ["private"])
        self.assertEqual(
            {k: entry[k] for k in ("version", "addr", "OS-EXT-IPS:type")},
            {"version": 4, "addr": "10.0.0.3", "OS-EXT-IPS:type": "fixed"},
        )
        self.assertTrue(entry["OS-EXT-IPS-MAC:mac_addr"].startswith("fa:16:3e"))
        ips = self.request("GET", f"/v2.1/servers/{servers[1]}/ips")
        self.assertEqual(ips.json, {"addresses": {"private": [{"version": 4, "addr": "10.0.0.4"}]}})
        one = self.request("GET", f"/v2.1/servers/{servers[1]}/ips/private")
        self.assertEqual(one.json, {"private": [{"version": 4, "addr": "10.0.0.4"}]})
        self.assertEqual(
            self.request("GET", f"/v2.1/servers/{servers[1]}/ips/other").status_int, 404
        )
        real = quantum_client.QuantumClient.call
        with mock.patch.object(
            quantum_client.QuantumClient, "call", autospec=True, side_effect=real
        ) as call:
            listed = self.request("GET", "/v2.1/servers/detail").json["servers"]
        self.assertEqual(call.call_count, 1)  # one network: one call for the whole page
        self.assertEqual(
            sorted(s["addresses"]["private"][0]["addr"] for s in listed),
            ["10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6"],
        )
