"""Subnets on networks and fixed IPs on ports: the API's views, checks, faults and configuration."""

from __future__ import annotations

import threading

from lxml import etree

from tests.fixtures import quantum as quantum_fixtures

T1 = "/v1.1/tenants/t1"
ADMIN = "admin:admin"


class SubnetTestCase(quantum_fixtures.QuantumTestCase):
    def network(self, net_id: str) -> dict:
        response = self.request("GET", f"{T1}/networks/{net_id}")
        self.assertEqual(response.status_int, 200, response.text)
        return response.json["network"]

    def port_detail(self, net_id: str, port_id: str) -> dict:
        response = self.request("GET", f"{T1}/networks/{net_id}/ports/{port_id}/detail")
        self.assertEqual(response.status_int, 200, response.text)
        return response.json["port"]

    def post_port(self, net_id: str, fixed_ip: str | None = None):
        body = {"port": {"fixed_ip": fixed_ip}} if fixed_ip else None
        return self.request("POST", f"{T1}/networks/{net_id}/ports", body)

    def test_subnet_is_shown_with_the_dhcp_server_quantum_chose(self):
        net_id = self.create_network(subnet={"cidr": "10.0.0.0/24"})
        self.assertEqual(
            self.network(net_id)["subnet"],
            {
                "cidr": "10.0.0.0/24",
                "gateway_ip": "10.0.0.1",  # absent: the first address (as Neutron)
                "enable_dhcp": True,
                "dhcp_server": "10.0.0.2",  # the first usable address after the gateway
            },
        )
        plain = self.create_network(name="plain")
        self.assertIsNone(self.network(plain)["subnet"])
        listed = self.request("GET", f"{T1}/networks/detail").json["networks"]
        self.assertEqual(
            [n["subnet"] and n["subnet"]["cidr"] for n in listed], ["10.0.0.0/24", None]
        )
        no_gw = self.create_network(
            subnet={"cidr": "192.168.7.0/28", "gateway_ip": None, "enable_dhcp": False}
        )
        self.assertEqual(
            self.network(no_gw)["subnet"],
            {
                "cidr": "192.168.7.0/28",
                "gateway_ip": None,
                "enable_dhcp": False,
                "dhcp_server": None,
            },
        )
        v6 = self.create_network(subnet={"cidr": "fd00:1::/64", "gateway_ip": "fd00:1::1"})
        self.assertEqual(self.network(v6)["subnet"]["dhcp_server"], "fd00:1::2")

    def test_bad_subnets_are_400_and_write_nothing(self):
        for subnet, words in (
            ({"cidr": "10.0.0.0/33"}, "is not a valid IP subnet"),
            ({"cidr": "nonsense"}, "is not a valid IP subnet"),
            ({"cidr": "10.0.0.5/24"}, "'10.0.0.0/24' is recommended"),
            ({"cidr": "10.0.0.0/31"}, "no address for a port"),
            ({"cidr": "10.0.0.0/24", "gateway_ip": "10.0.1.1"}, "gateway 10.0.1.1 is not valid"),
            ({"cidr": "10.0.0.0/24", "gateway_ip": "10.0.0.255"}, "is not valid"),
            ({"cidr": "10.0.0.0/24", "gateway_ip": "x"}, "not a valid IP address"),
            ({"cidr": "10.0.0.0/24", "enable_dhcp": "yes"}, "is not of type 'boolean'"),
            ({"cidr": "10.0.0.0/24", "dhcp_server": "10.0.0.9"}, "Additional properties"),
            ({"gateway_ip": "10.0.0.1"}, "'cidr' is a required property"),
            ("10.0.0.0/24", "is not of type 'object'"),
        ):
            with self.subTest(subnet=subnet):
                response = self.request(
                    "POST", f"{T1}/networks", {"network": {"name": "n", "subnet": subnet}}
                )
                self.assertEqual(response.status_int, 400, response.text)
                self.assertIn(words, response.json["malformedRequestBody"]["message"])
        self.assertEqual(self.count_rows("networks"), 0)

    def test_ports_get_the_lowest_free_address_released_on_delete(self):
        net_id = self.create_network(subnet={"cidr": "10.0.0.0/29"})  # .1 gw, .2 dhcp
        ports = [self.create_port(net_id) for _ in range(4)]
        addresses = [self.port_detail(net_id, p)["fixed_ip"] for p in ports]
        self.assertEqual(addresses, ["10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6"])
        exhausted = self.post_port(net_id)
        self.assertEqual(exhausted.status_int, 409)
        self.assertEqual(
            exhausted.json["ipAddressGenerationFailure"]["message"],
            f"No more IP addresses available on network {net_id}.",
        )
        self.assertEqual(self.count_rows("ports"), 4)
        self.request("DELETE", f"{T1}/networks/{net_id}/ports/{ports[1]}")
        again = self.create_port(net_id)
        self.assertEqual(self.port_detail(net_id, again)["fixed_ip"], "10.0.0.4")
        plain = self.create_network(name="plain")
        self.assertIsNone(self.port_detail(plain, self.create_port(plain))["fixed_ip"])

    def test_requested_fixed_ip(self):
        net_id = self.create_network(subnet={"cidr": "10.0.0.0/24"})
        taken = self.post_port(net_id, "10.0.0.50")
        self.assertEqual(taken.status_int, 202, taken.text)
        port_id = taken.json["port"]["id"]
        self.assertEqual(self.port_detail(net_id, port_id)["fixed_ip"], "10.0.0.50")
        for address, status, fault, message in (
            (
                "10.0.0.50",
                409,
                "ipAddressInUse",
                f"Unable to complete operation for network {net_id}. "
                "The IP address 10.0.0.50 is in use.",
            ),
            ("10.0.0.1", 409, "ipAddressInUse", "The IP address 10.0.0.1 is in use."),
            ("10.0.0.2", 409, "ipAddressInUse", "The IP address 10.0.0.2 is in use."),
            (
                "10.0.1.5",
                400,
                "invalidIpForNetwork",
                "IP address 10.0.1.5 is not a valid IP for any of the subnets "
                "on the specified network.",
            ),
            ("bogus", 400, "invalidIpForNetwork", "IP address bogus is not a valid IP"),
            (
                "10.0.0.255",
                400,
                "invalidIpForSubnet",
                "IP address 10.0.0.255 is not a valid IP for the specified subnet.",
            ),
            ("10.0.0.0", 400, "invalidIpForSubnet", "is not a valid IP for the specified subnet"),
        ):
            with self.subTest(address=address):
                response = self.post_port(net_id, address)
                self.assertEqual(response.status_int, status, response.text)
                self.assertIn(message, response.json[fault]["message"])
        self.assertEqual(self.count_rows("ports"), 1)
        plain = self.create_network(name="plain")
        refused = self.post_port(plain, "10.0.0.9")
        self.assertEqual(refused.status_int, 400)
        self.assertIn("has no subnet", refused.json["malformedRequestBody"]["message"])

    def test_port_configuration_carries_the_l3_keys(self):
        net_id = self.create_network(subnet={"cidr": "10.1.0.0/16", "gateway_ip": "10.1.0.254"})
        port_id = self.create_port(net_id)
        configuration = self.port_detail(net_id, port_id)["configuration"]
        self.assertEqual(
            configuration,
            {
                "vif_type": "bridge",
                "bridge": configuration["bridge"],
                "ip_address": "10.1.0.2",
                "netmask": "255.255.0.0",
                "prefixlen": "16",
                "gateway": "10.1.0.254",
                "dhcp_server": "10.1.0.1",
                "cidr": "10.1.0.0/16",
            },
        )
        # An admin's key does not override the allocation's facts.
        self.request(
            "PUT",
            f"{T1}/networks/{net_id}/ports/{port_id}",
            {"port": {"configuration": {"ip_address": "1.2.3.4", "mtu": "1400"}}},
            token=ADMIN,
        )
        configuration = self.port_detail(net_id, port_id)["configuration"]
        self.assertEqual((configuration["ip_address"], configuration["mtu"]), ("10.1.0.2", "1400"))
        # No gateway, no DHCP: those keys are absent.
        bare = self.create_network(
            subnet={"cidr": "10.2.0.0/24", "gateway_ip": None, "enable_dhcp": False}
        )
        configuration = self.port_detail(bare, self.create_port(bare))["configuration"]
        self.assertEqual(configuration["ip_address"], "10.2.0.1")
        self.assertNotIn("gateway", configuration)
        self.assertNotIn("dhcp_server", configuration)
        # The port list detail and the network detail show the same.
        listed = self.request("GET", f"{T1}/networks/{net_id}/ports/detail").json["ports"]
        self.assertEqual([p["fixed_ip"] for p in listed], ["10.1.0.2"])
        # ... its configuration read for all ports at once, the same as one port's.
        self.create_port(net_id)
        listed = self.request("GET", f"{T1}/networks/{net_id}/ports/detail").json["ports"]
        self.assertEqual(listed[0], self.port_detail(net_id, port_id))
        self.assertEqual([p["configuration"].get("mtu") for p in listed], ["1400", None])
        self.assertEqual(
            [p["configuration"]["ip_address"] for p in listed], ["10.1.0.2", "10.1.0.3"]
        )
        shown = self.request("GET", f"{T1}/networks/{net_id}/detail").json["network"]
        self.assertEqual(shown["ports"][0]["configuration"]["ip_address"], "10.1.0.2")

    def test_update_sets_changes_and_removes_the_subnet(self):
        net_id = self.create_network()
        port_before = self.create_port(net_id)
        url = f"{T1}/networks/{net_id}"
        response = self.request("PUT", url, {"network": {"subnet": {"cidr": "10.9.0.0/24"}}})
        self.assertEqual(response.status_int, 204, response.text)
        self.assertEqual(self.network(net_id)["subnet"]["cidr"], "10.9.0.0/24")
        self.assertIsNone(self.port_detail(net_id, port_before)["fixed_ip"])  # made before
        port_id = self.create_port(net_id)
        self.assertEqual(self.port_detail(net_id, port_id)["fixed_ip"], "10.9.0.3")
        # The CIDR cannot change, nor the subnet go, while a port holds an address.
        for subnet in ({"cidr": "10.8.0.0/24"}, None):
            refused = self.request("PUT", url, {"network": {"subnet": subnet}})
            self.assertEqual(refused.status_int, 409, refused.text)
            self.assertIn("One or more ports", refused.json["subnetInUse"]["message"])
        # A gateway on a port's address is refused; the DHCP server stays put.
        refused = self.request(
            "PUT", url, {"network": {"subnet": {"cidr": "10.9.0.0/24", "gateway_ip": "10.9.0.3"}}}
        )
        self.assertEqual(refused.status_int, 409, refused.text)
        self.assertIn("ipAddressInUse", refused.json)
        moved = self.request(
            "PUT", url, {"network": {"subnet": {"cidr": "10.9.0.0/24", "gateway_ip": "10.9.0.254"}}}
        )
        self.assertEqual(moved.status_int, 204, moved.text)
        self.assertEqual(
            self.network(net_id)["subnet"],
            {
                "cidr": "10.9.0.0/24",
                "gateway_ip": "10.9.0.254",
                "enable_dhcp": True,
                "dhcp_server": "10.9.0.2",
            },
        )
        # A refused update writes nothing, not even its other changes.
        refused = self.request(
            "PUT", url, {"network": {"name": "renamed", "subnet": {"cidr": "10.9.0.0/33"}}}
        )
        self.assertEqual(refused.status_int, 400, refused.text)
        self.assertEqual(self.network(net_id)["name"], "net")
        self.request("DELETE", f"{url}/ports/{port_id}")
        self.assertEqual(self.request("PUT", url, {"network": {"subnet": None}}).status_int, 204)
        self.assertIsNone(self.network(net_id)["subnet"])

    def test_concurrent_creates_get_distinct_addresses(self):
        net_id = self.create_network(subnet={"cidr": "10.0.0.0/28"})  # 12 for ports
        results: list[int] = []

        def create() -> None:
            results.append(self.post_port(net_id).status_int)

        threads = [threading.Thread(target=create) for _ in range(14)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(sorted(results), [202] * 12 + [409] * 2)
        listed = self.request("GET", f"{T1}/networks/{net_id}/ports/detail").json["ports"]
        addresses = sorted(int(p["fixed_ip"].rsplit(".", 1)[1]) for p in listed)
        self.assertEqual(addresses, list(range(3, 15)))

    def test_neutron_view_shows_fixed_ips(self):
        net_id = self.create_network(subnet={"cidr": "10.0.0.0/24"})
        port_id = self.create_port(net_id)
        plain = self.create_network(name="plain")
        bare_port = self.create_port(plain)
        found = self.request("GET", f"/v2.0/ports/{port_id}").json["port"]["fixed_ips"]
        (one,) = found
        self.assertEqual(one["ip_address"], "10.0.0.3")
        self.assertTrue(one["subnet_id"])
        listed = {p["id"]: p["fixed_ips"] for p in self.request("GET", "/v2.0/ports").json["ports"]}
        self.assertEqual(listed, {port_id: found, bare_port: []})

    def test_xml_body_sets_a_subnet(self):
        body = (
            b'<network xmlns="http://openstack.org/quantum/api/v1.1" name="x">'
            b'<subnet cidr="10.5.0.0/24" enable_dhcp="false"/></network>'
        )
        response = self.request(
            "POST",
            f"{T1}/networks",
            body,
            content_type="application/xml",
            headers={"Accept": "application/json"},
        )
        self.assertEqual(response.status_int, 202, response.text)
        net_id = response.json["network"]["id"]
        subnet = self.network(net_id)["subnet"]
        self.assertEqual(
            (subnet["cidr"], subnet["enable_dhcp"], subnet["dhcp_server"]),
            ("10.5.0.0/24", False, None),
        )
        bad = body.replace(b'"false"', b'"maybe"')
        response = self.request(
            "POST",
            f"{T1}/networks",
            bad,
            content_type="application/xml",
            headers={"Accept": "application/json"},
        )
        self.assertEqual(response.status_int, 400, response.text)

    def test_xml_shows_subnet_and_fixed_ip(self):
        net_id = self.create_network(subnet={"cidr": "10.0.0.0/24"})
        port_id = self.create_port(net_id)
        xml = self.request("GET", f"{T1}/networks/{net_id}/ports/{port_id}/detail.xml").body
        port = etree.fromstring(xml)
        self.assertEqual(port.get("fixed_ip"), "10.0.0.3")
        network = etree.fromstring(self.request("GET", f"{T1}/networks/{net_id}.xml").body)
        subnet = network.find("{http://openstack.org/quantum/api/v1.1}subnet")
        if subnet is None:
            subnet = network.find("subnet")
        self.assertEqual(
            (subnet.get("cidr"), subnet.get("dhcp_server")), ("10.0.0.0/24", "10.0.0.2")
        )


class AgentLookupTestCase(quantum_fixtures.QuantumTestCase):
    """What an agent reads: a port's configuration alone, and the port of an interface-id."""

    def test_configuration_of_one_port(self):
        net_id = self.create_network(subnet={"cidr": "10.0.0.0/24"})
        port_id = self.create_port(net_id)
        path = f"{T1}/networks/{net_id}/ports/{port_id}"
        response = self.request("GET", f"{path}/configuration")
        self.assertEqual(response.status_int, 200, response.text)
        detail = self.request("GET", f"{path}/detail").json["port"]
        self.assertEqual(response.json, {"configuration": detail["configuration"]})
        xml = etree.fromstring(self.request("GET", f"{path}/configuration.xml").body)
        confs = {c.get("key"): c.text for c in xml}
        self.assertEqual(confs, detail["configuration"])
        self.assertEqual(
            self.request("GET", f"{T1}/networks/{net_id}/ports/x/configuration").status_int, 404
        )
        other = self.request("GET", f"{path}/configuration", token="bob:t2")
        self.assertEqual(other.status_int, 403)

    def test_admin_finds_the_port_of_an_interface_across_tenants(self):
        mine = self.create_network(subnet={"cidr": "10.0.0.0/24"})
        theirs = self.create_network(tenant="t2", token=ADMIN, plugin="openvswitch")
        port_a = self.create_port(mine)
        port_b = self.create_port(theirs, tenant="t2", token="bob:t2")
        for tenant, net, port, vif in (
            ("t1", mine, port_a, "vif-a"),
            ("t2", theirs, port_b, "vif-b"),
        ):
            attached = self.request(
                "PUT",
                f"/v1.1/tenants/{tenant}/networks/{net}/ports/{port}/attachment",
                {"attachment": {"id": vif}},
                token=ADMIN,
            )
            self.assertEqual(attached.status_int, 204, attached.text)
        found = self.request("GET", "/v1.1/ports/detail?attachment=vif-b", token=ADMIN)
        self.assertEqual(found.status_int, 200, found.text)
        (port,) = found.json["ports"]
        self.assertEqual(
            (port["id"], port["network_id"], port["tenant_id"], port["attachment"]),
            (port_b, theirs, "t2", {"id": "vif-b"}),
        )
        self.assertEqual(port["configuration"]["vif_type"], "ovs")
        (port,) = self.request("GET", "/v1.1/ports/detail?attachment=vif-a", token=ADMIN).json[
            "ports"
        ]
        self.assertEqual((port["fixed_ip"], port["configuration"]["ip_address"]), ("10.0.0.3",) * 2)
        everything = self.request("GET", "/v1.1/ports/detail", token=ADMIN).json["ports"]
        self.assertEqual([p["id"] for p in everything], [port_a, port_b])
        self.assertEqual(
            self.request("GET", "/v1.1/ports/detail?attachment=nope", token=ADMIN).json,
            {"ports": []},
        )
        refused = self.request("GET", "/v1.1/ports/detail?attachment=vif-a")
        self.assertEqual(refused.status_int, 403)
        self.assertIn("forbidden", refused.json)
        self.assertEqual(self.request("GET", "/v1.1/ports/detail", token=None).status_int, 401)
