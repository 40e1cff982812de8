"""Server metadata, /ips, os-interface and os-availability-zone through the in-process API."""

from __future__ import annotations

import datetime
import threading
from unittest import mock

import sqlalchemy as sa

import nova.conf
from nova import context as nova_context
from nova import exception
from nova.db import instances as instance_db
from nova.db import models
from nova.db import services as service_db
from nova.db import session as db_session
from nova.network import http
from nova.network.legacy import api as legacy_api
from tests.fixtures import api as api_fixtures

CONF = nova.conf.CONF
ADMIN = nova_context.get_admin_context()


def metadata_rows(server_id: str) -> list[tuple[str, str]]:
    """Return the live metadata rows of a server, as stored."""
    with db_session.get_engine().connect() as connection:
        return [
            tuple(row)
            for row in connection.execute(
                sa.text(
                    "SELECT m.key, m.value FROM instance_metadata m "
                    "JOIN instances i ON i.id = m.instance_id "
                    "WHERE i.uuid = :uuid AND m.deleted = 0 ORDER BY m.id"
                ),
                {"uuid": server_id},
            )
        ]


class ServerMetadataTestCase(api_fixtures.APITestCase):
    def setUp(self) -> None:
        super().setUp()
        self.server_id = self.create_server(
            metadata={"a": "1", "b": "2"}, networks="none", launch=False
        )
        self.base = f"/v2.1/servers/{self.server_id}/metadata"

    def test_index_show_and_the_server_view_agree(self):
        response = self.request("GET", self.base)
        self.assertEqual(response.status_int, 200)
        self.assertEqual(response.json, {"metadata": {"a": "1", "b": "2"}})
        shown = self.request("GET", f"{self.base}/b")
        self.assertEqual((shown.status_int, shown.json), (200, {"meta": {"b": "2"}}))
        missing = self.request("GET", f"{self.base}/zz")
        self.assertEqual(missing.status_int, 404)
        self.assertEqual(missing.json["itemNotFound"]["message"], "Metadata item was not found")

    def test_post_merges_and_put_replaces(self):
        merged = self.request("POST", self.base, {"metadata": {"b": "two", "c": "3"}})
        self.assertEqual(merged.status_int, 200, merged.text)
        self.assertEqual(merged.json["metadata"], {"a": "1", "b": "two", "c": "3"})
        self.assertEqual(
            sorted(metadata_rows(self.server_id)), [("a", "1"), ("b", "two"), ("c", "3")]
        )
        replaced = self.request("PUT", self.base, {"metadata": {"c": "x", "d": "4"}})
        self.assertEqual(replaced.status_int, 200, replaced.text)
        self.assertEqual(replaced.json["metadata"], {"c": "x", "d": "4"})
        self.assertEqual(sorted(metadata_rows(self.server_id)), [("c", "x"), ("d", "4")])
        server = self.request("GET", f"/v2.1/servers/{self.server_id}").json["server"]
        self.assertEqual(server["metadata"], {"c": "x", "d": "4"})
        emptied = self.request("PUT", self.base, {"metadata": {}})
        self.assertEqual((emptied.status_int, emptied.json), (200, {"metadata": {}}))
        self.assertEqual(metadata_rows(self.server_id), [])

    def test_item_put_and_delete(self):
        put = self.request("PUT", f"{self.base}/new key", {"meta": {"new key": "v"}})
        self.assertEqual((put.status_int, put.json), (200, {"meta": {"new key": "v"}}))
        self.assertIn(("new key", "v"), metadata_rows(self.server_id))
        mismatch = self.request("PUT", f"{self.base}/a", {"meta": {"b": "v"}})
        self.assertEqual(mismatch.status_int, 400)
        self.assertEqual(mismatch.json["badRequest"]["message"], "Request body and URI mismatch")
        for body in ({"meta": {"a": "1", "b": "2"}}, {"meta": {}}, {"metadata": {"a": "1"}}):
            with self.subTest(body=body):
                self.assertEqual(self.request("PUT", f"{self.base}/a", body).status_int, 400)
        deleted = self.request("DELETE", f"{self.base}/a")
        self.assertEqual((deleted.status_int, deleted.body), (204, b""))
        self.assertEqual(self.request("DELETE", f"{self.base}/a").status_int, 404)
        self.assertEqual(sorted(metadata_rows(self.server_id)), [("b", "2"), ("new key", "v")])

    def test_bad_bodies_are_400_and_write_nothing(self):
        before = metadata_rows(self.server_id)
        for method, body in (
            ("POST", {"metadata": {"k": "v" * 256}}),
            ("POST", {"metadata": {"k" * 256: "v"}}),
            ("POST", {"metadata": {"": "v"}}),
            ("POST", {"metadata": {"k": 1}}),
            ("POST", {"metadata": {"k": "v"}, "other": 1}),
            ("PUT", {"metadata": ["k"]}),
            ("PUT", {}),
            ("POST", None),
        ):
            with self.subTest(method=method, body=body):
                response = self.request(method, self.base, body)
                self.assertEqual(response.status_int, 400, response.text)
                self.assertIn("badRequest", response.json)
        self.assertEqual(metadata_rows(self.server_id), before)
        longest = self.request("POST", self.base, {"metadata": {"k" * 255: "v" * 255}})
        self.assertEqual(longest.status_int, 200, longest.text)

    def test_the_quota_of_items_is_403_and_writes_nothing(self):
        CONF.set_override("metadata_items", 3, group="quota")
        self.addCleanup(CONF.clear_override, "metadata_items", group="quota")
        self.assertEqual(self.request("POST", self.base, {"metadata": {"c": "3"}}).status_int, 200)
        for method, path, body in (
            ("POST", self.base, {"metadata": {"d": "4"}}),
            ("PUT", self.base, {"metadata": {k: k for k in "wxyz"}}),
            ("PUT", f"{self.base}/d", {"meta": {"d": "4"}}),
        ):
            with self.subTest(method=method, path=path):
                response = self.request(method, path, body)
                self.assertEqual(response.status_int, 403, response.text)
                self.assertEqual(
                    response.json["forbidden"]["message"],
                    "Maximum number of metadata items exceeds 3",
                )
        self.assertEqual(
            sorted(metadata_rows(self.server_id)), [("a", "1"), ("b", "2"), ("c", "3")]
        )
        # Changing existing items stays allowed at the limit.
        self.assertEqual(self.request("POST", self.base, {"metadata": {"a": "x"}}).status_int, 200)
        # A create is held to the same quota.
        refused = self.create_server(expect=403, metadata={k: k for k in "wxyz"})
        self.assertIn("forbidden", refused.json)
        self.assertEqual(self.count("instances"), 1)

    def test_concurrent_additions_never_exceed_the_quota(self):
        CONF.set_override("metadata_items", 5, group="quota")
        self.addCleanup(CONF.clear_override, "metadata_items", group="quota")
        results = []

        def add(key: str) -> None:
            response = self.request("POST", self.base, {"metadata": {key: "v"}})
            results.append(response.status_int)

        threads = [threading.Thread(target=add, args=(f"k{i}",)) for i in range(10)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        # Two items exist: three more fit.
        self.assertEqual(sorted(results), [200] * 3 + [403] * 7)
        self.assertEqual(len(metadata_rows(self.server_id)), 5)

    def test_a_busy_server_is_409(self):
        instance_db.instance_update(
            ADMIN, self.server_id, {"vm_state": "building", "task_state": "scheduling"}
        )
        for method, path, body in (
            ("POST", self.base, {"metadata": {"c": "3"}}),
            ("PUT", self.base, {"metadata": {}}),
            ("PUT", f"{self.base}/a", {"meta": {"a": "x"}}),
            ("DELETE", f"{self.base}/a", None),
        ):
            with self.subTest(method=method, path=path):
                response = self.request(method, path, body)
                self.assertEqual(response.status_int, 409, response.text)
                self.assertIn("conflictingRequest", response.json)
        self.assertEqual(metadata_rows(self.server_id), [("a", "1"), ("b", "2")])
        self.assertEqual(self.request("GET", self.base).status_int, 200)

    def test_unknown_or_foreign_server_is_404(self):
        for token, path in (
            ("alice:demo", "/v2.1/servers/00000000-0000-0000-0000-000000000000/metadata"),
            ("mallory:other", self.base),
        ):
            for method, suffix, body in (
                ("GET", "", None),
                ("POST", "", {"metadata": {"x": "y"}}),
                ("PUT", "", {"metadata": {}}),
                ("GET", "/a", None),
                ("PUT", "/a", {"meta": {"a": "y"}}),
                ("PUT", "/a", {"meta": {"b": "y"}}),
                ("DELETE", "/a", None),
            ):
                with self.subTest(token=token, method=method, suffix=suffix):
                    response = self.request(method, path + suffix, body, token=token)
                    self.assertEqual(response.status_int, 404, response.text)
        self.assertEqual(metadata_rows(self.server_id), [("a", "1"), ("b", "2")])


class IPsTestCase(api_fixtures.APITestCase):
    def test_quantum_servers_have_no_addresses_yet(self):
        network = self.quantum_network()
        server_id = self.create_server(networks=[{"uuid": network}])
        response = self.request("GET", f"/v2.1/servers/{server_id}/ips")
        self.assertEqual((response.status_int, response.json), (200, {"addresses": {}}))
        missing = self.request("GET", f"/v2.1/servers/{server_id}/ips/net")
        self.assertEqual(missing.status_int, 404)
        self.assertEqual(
            missing.json["itemNotFound"]["message"],
            "Instance is not a member of specified network",
        )
        foreign = self.request("GET", f"/v2.1/servers/{server_id}/ips", token="mallory:other")
        self.assertEqual(foreign.status_int, 404)

    def test_legacy_addresses_in_the_view_and_in_ips(self):
        CONF.set_override("backend", "legacy", group="network")
        self.app = type(self.app)()
        legacy_api.create_network(ADMIN, label="public", cidr="10.0.0.0/29", bridge="br100")
        legacy_api.create_network(ADMIN, label="private", cidr="10.1.0.0/29", bridge="br101")
        server_id = self.create_server()
        view = self.request("GET", f"/v2.1/servers/{server_id}").json["server"]["addresses"]
        self.assertEqual(set(view), {"public", "private"})
        (public,) = view["public"]
        self.assertEqual(public["addr"], "10.0.0.2")
        self.assertEqual(public["OS-EXT-IPS:type"], "fixed")
        self.assertRegex(public["OS-EXT-IPS-MAC:mac_addr"], "^fa:16:3e(:[0-9a-f]{2}){3}$")
        ips = self.request("GET", f"/v2.1/servers/{server_id}/ips")
        self.assertEqual(ips.status_int, 200)
        self.assertEqual(
            ips.json,
            {
                "addresses": {
                    "public": [{"version": 4, "addr": "10.0.0.2"}],
                    "private": [{"version": 4, "addr": "10.1.0.2"}],
                }
            },
        )
        one = self.request("GET", f"/v2.1/servers/{server_id}/ips/private")
        self.assertEqual(one.json, {"private": [{"version": 4, "addr": "10.1.0.2"}]})
        self.assertEqual(
            self.request("GET", f"/v2.1/servers/{server_id}/ips/other").status_int, 404
        )
        # os-interface: nova-network had no ports, and Nova answered 501.
        listed = self.request("GET", f"/v2.1/servers/{server_id}/os-interface")
        self.assertEqual(listed.status_int, 501, listed.text)
        self.assertEqual(listed.json["notImplemented"]["code"], 501)


class InterfacesTestCase(api_fixtures.APITestCase):
    def test_list_and_show_the_servers_ports(self):
        network = self.quantum_network()
        port = self.quantum_port(network)
        server_id = self.create_server(networks=[{"port": port}, {"uuid": network}])
        vifs = self.request("GET", f"/v2.1/servers/{server_id}/os-virtual-interfaces").json
        base = f"/v2.1/servers/{server_id}/os-interface"
        response = self.request("GET", base)
        self.assertEqual(response.status_int, 200, response.text)
        attachments = response.json["interfaceAttachments"]
        self.assertEqual([a["port_id"] for a in attachments][0], port)
        self.assertEqual(len(attachments), 2)
        self.assertEqual(
            [a["mac_addr"] for a in attachments],
            [vif["mac_address"] for vif in vifs["virtual_interfaces"]],
        )
        for attachment in attachments:
            self.assertEqual(
                set(attachment), {"port_id", "net_id", "mac_addr", "port_state", "fixed_ips"}
            )
            self.assertEqual((attachment["net_id"], attachment["fixed_ips"]), (network, []))
            self.assertIn(attachment["port_state"], ("ACTIVE", "DOWN"))
        shown = self.request("GET", f"{base}/{port}")
        self.assertEqual(shown.status_int, 200)
        self.assertEqual(shown.json["interfaceAttachment"], attachments[0])
        other = self.quantum_port(network)
        self.assertEqual(self.request("GET", f"{base}/{other}").status_int, 404)
        self.assertEqual(self.request("GET", base, token="mallory:other").status_int, 404)

    def test_attach_and_detach_need_an_active_server_after_the_lookup(self):
        # Hot-plug itself: test_interface_hotplug.py. A server still being built is 409.
        server_id = self.create_server(networks="none")
        base = f"/v2.1/servers/{server_id}/os-interface"
        before = self.count("virtual_interfaces")
        network = self.quantum_network()
        for method, path, body in (
            ("POST", base, {"interfaceAttachment": {"net_id": network}}),
            ("DELETE", f"{base}/some-port", None),
        ):
            with self.subTest(method=method):
                response = self.request(method, path, body)
                self.assertEqual(response.status_int, 409, response.text)
                self.assertEqual(response.json["conflictingRequest"]["code"], 409)
                foreign = self.request(method, path, body, token="mallory:other")
                self.assertEqual(foreign.status_int, 404)
        self.assertEqual(self.count("virtual_interfaces"), before)


class AvailabilityZoneTestCase(api_fixtures.APITestCase):
    def add_service(self, host: str, binary: str, zone: str | None, disabled: bool = False):
        service = service_db.service_get_or_create(
            ADMIN, host, binary, {"availability_zone": zone, "disabled": disabled}
        )
        service_db.service_heartbeat(ADMIN, service.id)
        return service

    def test_list_for_everyone_detail_for_admins(self):
        self.add_service("c1", "nova-compute", "nova")
        self.add_service("c2", "nova-compute", "az2")
        self.add_service("c3", "nova-compute", None)  # the default zone
        self.add_service("c4", "nova-compute", "closed", disabled=True)
        self.add_service("ctl", "nova-scheduler", "nova")
        listed = self.request("GET", "/v2.1/os-availability-zone")
        self.assertEqual(listed.status_int, 200, listed.text)
        self.assertEqual(
            listed.json["availabilityZoneInfo"],
            [
                {"zoneName": "az2", "zoneState": {"available": True}, "hosts": None},
                {"zoneName": "nova", "zoneState": {"available": True}, "hosts": None},
                {"zoneName": "closed", "zoneState": {"available": False}, "hosts": None},
            ],
        )
        refused = self.request("GET", "/v2.1/os-availability-zone/detail")
        self.assertEqual(refused.status_int, 403)
        self.assertIn("forbidden", refused.json)

        # The scheduler's heartbeat lapses: it shows as not available.
        old = models.utcnow() - datetime.timedelta(seconds=CONF.service_down_time + 5)
        with db_session.get_engine().begin() as connection:
            connection.execute(
                models.Service.__table__.update()
                .where(models.Service.host == "ctl")
                .values(updated_at=old)
            )
        detail = self.request("GET", "/v2.1/os-availability-zone/detail", token="admin:admin")
        self.assertEqual(detail.status_int, 200, detail.text)
        zones = {zone["zoneName"]: zone for zone in detail.json["availabilityZoneInfo"]}
        self.assertEqual(list(zones), ["az2", "internal", "nova", "closed"])
        self.assertEqual(set(zones["nova"]["hosts"]), {"c1", "c3"})
        compute = zones["nova"]["hosts"]["c1"]["nova-compute"]
        self.assertEqual((compute["available"], compute["active"]), (True, True))
        self.assertRegex(compute["updated_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$")
        scheduler = zones["internal"]["hosts"]["ctl"]["nova-scheduler"]
        self.assertEqual((scheduler["available"], scheduler["active"]), (False, True))
        self.assertEqual(
            zones["closed"],
            {"zoneName": "closed", "zoneState": {"available": False}, "hosts": None},
        )


class AddressCostTestCase(api_fixtures.APITestCase):
    def test_quantum_views_make_one_network_call_per_network(self):
        network = self.quantum_network()
        server_ids = [self.create_server(networks=[{"uuid": network}]) for _ in range(3)]
        real = http.JSONClient.call
        with mock.patch.object(http.JSONClient, "call", autospec=True, side_effect=real) as call:
            listed = self.request("GET", "/v2.1/servers/detail")
            self.assertEqual(listed.status_int, 200, listed.text)
            self.assertEqual(len(listed.json["servers"]), 3)
            self.assertEqual(call.call_count, 1)  # the network's ports, for every server
            for server_id in server_ids:
                self.assertEqual(
                    self.request("GET", f"/v2.1/servers/{server_id}/ips").status_int, 200
                )
            self.assertEqual(call.call_count, 4)
            self.assertEqual(self.request("GET", "/v2.1/servers").status_int, 200)
            self.assertEqual(call.call_count, 4)  # the summary list shows no addresses

    def test_an_unreachable_network_service_leaves_its_addresses_out(self):
        server_id = self.create_server(networks="none")
        unreachable = exception.NetworkServiceUnavailable(url="http://n", reason="down")
        network = self.app.compute_api.network
        with mock.patch.object(network, "get_addresses", side_effect=unreachable) as called:
            shown = self.request("GET", f"/v2.1/servers/{server_id}")
            listed = self.request("GET", "/v2.1/servers/detail")
        self.assertEqual(called.call_count, 2)
        self.assertEqual((shown.status_int, shown.json["server"]["addresses"]), (200, {}))
        self.assertEqual(listed.status_int, 200)
        with mock.patch.object(network, "get_addresses") as called:
            self.assertEqual(self.request("GET", "/v2.1/servers").status_int, 200)
        called.assert_not_called()  # the summary list shows no addresses


class OpenAPITestCase(api_fixtures.APITestCase):
    def test_the_new_operations_document_their_codes(self):
        paths = self.request("GET", "/v2.1/openapi.json", token=None).json["paths"]
        metadata = paths["/v2.1/servers/{server_id}/metadata"]
        self.assertIn("200", metadata["post"]["responses"])
        self.assertNotIn("202", metadata["post"]["responses"])
        self.assertTrue({"403", "409"} <= set(metadata["put"]["responses"]))
        interface = paths["/v2.1/servers/{server_id}/os-interface"]
        self.assertIn("501", interface["post"]["responses"])
        self.assertIn("501", interface["get"]["responses"])
        self.assertNotIn("501", paths["/v2.1/servers/{server_id}/ips"]["get"]["responses"])
        self.assertIn("403", paths["/v2.1/os-availability-zone/detail"]["get"]["responses"])
