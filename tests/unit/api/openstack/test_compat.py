"""What Nova 2.1 accepts and how it answers: microversions, list queries, the create body,
the server views (user, admin, update), links and the VIF list."""

from __future__ import annotations

import base64
import copy
import unittest
import uuid

import sqlalchemy as sa
import webob

import nova.conf
from nova import context as nova_context
from nova import exception
from nova.api.openstack import api_version
from nova.db import instances as instance_db
from nova.db import models
from nova.db import session as db_session
from tests.fixtures import api as api_fixtures
from tests.fixtures import clients

CONF = nova.conf.CONF
ADMIN = "admin:admin"
NOVA_ERROR_406 = "Version 2.90 is not supported by the API. Minimum is 2.1 and maximum is 2.1."

# The keys and shape of Nova's doc/api_samples/servers/server-create-req.json
# (its base64 texts broken by spaces, as there).
NOVA_CREATE_SAMPLE = {
    "server": {
        "accessIPv4": "1.2.3.4",
        "accessIPv6": "80fe::",
        "name": "new-server-test",
        "imageRef": "70a599e0-31e7-49b7-b260-868f441e862b",
        "flavorRef": "1",
        "availability_zone": "us-west",
        "OS-DCF:diskConfig": "AUTO",
        "metadata": {"My Server Name": "Apache1"},
        "personality": [{"path": "/etc/banner.txt", "contents": "SGVsbG8g ZnJvbSB0aGUg Y2xvdWQK"}],
        "security_groups": [{"name": "default"}],
        "user_data": "IyEvYmluL2Jhc2gKZWNobyAiaGVsbG8iCg==",
    },
    "OS-SCH-HNT:scheduler_hints": {"same_host": "48e6a9f6-30af-47e0-bc04-acaed113bb4e"},
}


class MicroversionTestCase(api_fixtures.APITestCase):
    def get(self, headers: dict) -> object:
        return clients.wsgi_request(
            self.app, "GET", "/v2.1/servers", token="alice:demo", headers=headers
        )

    def test_versions_in_range_are_served_and_labelled(self):
        for headers in (
            {},
            {"OpenStack-API-Version": "compute 2.1"},
            {"OpenStack-API-Version": "compute latest"},
            {"OpenStack-API-Version": "network 2.90"},  # another service's: the default
            {"X-OpenStack-Nova-API-Version": "2.1"},
            {"X-OpenStack-Nova-API-Version": "latest"},
        ):
            with self.subTest(headers=headers):
                response = self.get(headers)
                self.assertEqual(response.status_int, 200, response.text)
                self.assertEqual(response.headers["OpenStack-API-Version"], "compute 2.1")
                self.assertEqual(response.headers["X-OpenStack-Nova-API-Version"], "2.1")
                self.assertEqual(
                    response.headers.getall("Vary"),
                    ["OpenStack-API-Version", "X-OpenStack-Nova-API-Version"],
                )

    def test_versions_outside_the_range_are_406(self):
        for headers, asked in (
            ({"OpenStack-API-Version": "compute 2.90"}, "2.90"),
            ({"X-OpenStack-Nova-API-Version": "2.90"}, "2.90"),
            ({"OpenStack-API-Version": "compute 2.0"}, "2.0"),
            ({"OpenStack-API-Version": "compute 3.1"}, "3.1"),
        ):
            with self.subTest(headers=headers):
                response = self.get(headers)
                self.assertEqual(response.status_int, 406, response.text)
                self.assertEqual(
                    response.json,
                    {
                        "computeFault": {
                            "code": 406,
                            "message": NOVA_ERROR_406.replace("2.90", asked),
                        }
                    },
                )
                self.assertNotIn("OpenStack-API-Version", response.headers)

    def test_a_malformed_version_is_400(self):
        for value in ("compute 2", "compute two.one", "compute 2.01"):
            with self.subTest(value=value):
                response = self.get({"OpenStack-API-Version": value})
                self.assertEqual(response.status_int, 400, response.text)
                self.assertIn("is of invalid format", response.json["badRequest"]["message"])

    def test_406_writes_nothing(self):
        body = {"server": {"name": "vm", "imageRef": "cirros", "flavorRef": "1"}}
        response = clients.wsgi_request(
            self.app,
            "POST",
            "/v2.1/servers",
            body,
            token="alice:demo",
            headers={"OpenStack-API-Version": "compute 2.90"},
        )
        self.assertEqual(response.status_int, 406)
        self.assertEqual(self.count("instances", live=False), 0)

    def test_version_documents(self):
        root = self.request("GET", "/", token=None).json["versions"]
        self.assertEqual(
            [(v["id"], v["status"], v["min_version"], v["version"]) for v in root],
            [("v2.0", "DEPRECATED", "", ""), ("v2.1", "CURRENT", "2.1", "2.1")],
        )
        self.assertEqual(root[0]["links"], [{"rel": "self", "href": "http://localhost/v2/"}])
        self.assertEqual(root[1]["links"], [{"rel": "self", "href": "http://localhost/v2.1/"}])
        legacy = self.request("GET", "/v2/", token=None).json["version"]
        self.assertEqual((legacy["id"], legacy["status"]), ("v2.0", "DEPRECATED"))
        self.assertEqual(legacy["links"][0], {"rel": "self", "href": "http://localhost/v2/"})
        self.assertEqual(
            legacy["media-types"][0]["type"], "application/vnd.openstack.compute+json;version=2"
        )
        # Only the document: v2.0's resources are not served.
        self.assertEqual(self.request("GET", "/v2/servers").status_int, 404)
        one = self.request("GET", "/v2.1/", token=None).json["version"]
        self.assertEqual((one["min_version"], one["version"]), ("2.1", "2.1"))
        self.assertEqual(one["updated"], "2013-07-23T11:33:21Z")
        self.assertEqual(
            one["media-types"][0]["type"], "application/vnd.openstack.compute+json;version=2.1"
        )


class APIVersionTestCase(unittest.TestCase):
    def test_versions_compare_by_their_numbers(self):
        self.assertLess(api_version.parse("2.9"), api_version.parse("2.10"))
        self.assertEqual(str(api_version.parse("2.10")), "2.10")
        for text in ("2", "2.01", "02.1", "v2.1", "2.1.1", ""):
            with self.subTest(text=text), self.assertRaises(exception.InvalidAPIVersionString):
                api_version.parse(text)

    def test_is_supported_reads_the_negotiated_version(self):
        request = webob.Request.blank("/")
        self.assertTrue(api_version.is_supported(request, "2.1"))  # none negotiated: 2.1
        self.assertFalse(api_version.is_supported(request, "2.2"))
        api_version.set_requested(request.environ, api_version.APIVersion(2, 12))
        self.assertTrue(api_version.is_supported(request, "2.12"))
        self.assertFalse(api_version.is_supported(request, "2.13"))

    def test_negotiate(self):
        self.assertEqual(api_version.negotiate({}), api_version.MIN_VERSION)
        self.assertEqual(
            api_version.negotiate({"OpenStack-API-Version": "compute LATEST"}),
            api_version.MAX_VERSION,
        )
        with self.assertRaises(exception.InvalidGlobalAPIVersion) as caught:
            api_version.negotiate({"OpenStack-API-Version": "compute 2.90"})
        self.assertEqual(caught.exception.code, 406)


class FlavorQueryTestCase(api_fixtures.APITestCase):
    def setUp(self) -> None:
        super().setUp()
        flavors = models.Base.metadata.tables["flavors"]
        with db_session.get_engine().begin() as connection:
            connection.execute(
                sa.insert(flavors),
                [
                    {"flavorid": "p1", "name": "private", "memory_mb": 300, "vcpus": 1,
                     "root_gb": 3, "is_public": False, "disabled": False},
                    {"flavorid": "d1", "name": "disabled", "memory_mb": 400, "vcpus": 1,
                     "root_gb": 4, "is_public": True, "disabled": True},
                ],
            )  # fmt: skip

    def ids(self, query: str = "", token: str = "alice:demo", path: str = "/v2.1/flavors"):
        response = self.request("GET", f"{path}{query}", token=token)
        self.assertEqual(response.status_int, 200, response.text)
        return [f["id"] for f in response.json["flavors"]]

    def test_default_order_is_by_flavor_id(self):
        self.assertEqual(self.ids(), ["1", "2", "3", "4", "5"])
        self.assertEqual(self.ids("?sort_key=memory_mb&sort_dir=desc"), ["5", "4", "3", "2", "1"])
        self.assertEqual(self.ids("?sort_key=name&sort_dir=asc"), ["4", "3", "2", "1", "5"])
        # Nova's keys of columns this database lacks sort by the default.
        self.assertEqual(self.ids("?sort_key=rxtx_factor"), ["1", "2", "3", "4", "5"])

    def test_is_public_as_clients_send_it(self):
        # openstack flavor list sends is_public=None; for users it is ignored.
        for query in ("?is_public=None", "?is_public=True", "?is_public=false", "?is_public=x"):
            # (Nova ignores it for them, whatever its value.)
            with self.subTest(query=query):
                self.assertEqual(self.ids(query), ["1", "2", "3", "4", "5"])
        self.assertEqual(self.ids("?is_public=None", ADMIN), ["1", "2", "3", "4", "5", "d1", "p1"])
        self.assertEqual(self.ids("?is_public=none", ADMIN), self.ids("?is_public=None", ADMIN))
        self.assertEqual(self.ids("?is_public=false", ADMIN), ["p1"])
        self.assertEqual(self.ids("?is_public=0", ADMIN), ["p1"])
        self.assertEqual(self.ids("", ADMIN), ["1", "2", "3", "4", "5", "d1"])
        self.assertEqual(self.ids("?is_public=yes", ADMIN), self.ids("", ADMIN))
        refused = self.request("GET", "/v2.1/flavors?is_public=maybe", token=ADMIN)
        self.assertEqual(refused.status_int, 400)
        self.assertEqual(refused.json["badRequest"]["message"], "Invalid is_public filter [maybe]")

    def test_min_ram_and_min_disk(self):
        self.assertEqual(self.ids("?minRam=2048"), ["2", "3", "4", "5"])
        self.assertEqual(self.ids("?minRam=2049"), ["3", "4", "5"])
        self.assertEqual(
            self.ids("?minRam=2048&minDisk=80", path="/v2.1/flavors/detail"), ["4", "5"]
        )
        self.assertEqual(self.ids("?minDisk=0"), ["1", "2", "3", "4", "5"])
        for query, name in (("?minRam=big", "minRam"), ("?minDisk=1.5", "minDisk")):
            refused = self.request("GET", f"/v2.1/flavors{query}")
            self.assertEqual(refused.status_int, 400)
            self.assertIn(f"query {name}", refused.json["badRequest"]["message"])

    def test_limit_marker_and_bad_values(self):
        self.assertEqual(self.ids("?limit=2"), ["1", "2"])
        self.assertEqual(self.ids("?limit=2&marker=2"), ["3", "4"])
        self.assertEqual(self.ids("?marker=5"), [])
        self.assertEqual(self.ids("?bogus=1&sort_dir=asc"), ["1", "2", "3", "4", "5"])
        for query, name in (
            ("?marker=nope", None),
            ("?limit=-1", "limit"),
            ("?sort_key=color", "sort_key"),
            ("?sort_dir=up", "sort_dir"),
        ):
            with self.subTest(query=query):
                refused = self.request("GET", f"/v2.1/flavors{query}")
                self.assertEqual(refused.status_int, 400, refused.text)
                if name:
                    self.assertIn(f"query {name}", refused.json["badRequest"]["message"])


class ServerQueryTestCase(api_fixtures.APITestCase):
    def names(self, query: str = "", token: str = "alice:demo", path: str = "/v2.1/servers"):
        response = self.request("GET", f"{path}{query}", token=token)
        self.assertEqual(response.status_int, 200, response.text)
        return [s["name"] for s in response.json["servers"]]

    def test_what_openstack_server_list_sends(self):
        for name in ("b", "a", "c"):
            self.create_server(name=name)
        query = "?deleted=False&limit=2&sort_key=display_name&sort_dir=asc"
        self.assertEqual(self.names(query, path="/v2.1/servers/detail"), ["a", "b"])
        response = self.request("GET", f"/v2.1/servers/detail{query}").json
        next_href = response["servers_links"][0]["href"]
        self.assertTrue(next_href.startswith("http://localhost/v2.1/servers/detail?"))
        self.assertEqual(self.names(next_href.removeprefix("http://localhost"), path=""), ["c"])

    def test_status_names(self):
        first, second = self.create_server(name="one"), self.create_server(name="two")
        admin = nova_context.get_admin_context()
        instance_db.instance_update(admin, first, {"vm_state": "stopped"})
        instance_db.instance_update(admin, second, {"vm_state": "active"})
        self.assertEqual(self.names("?status=SHUTOFF"), ["one"])
        self.assertEqual(self.names("?status=shutoff"), ["one"])
        self.assertEqual(sorted(self.names("?status=SHUTOFF&status=ACTIVE")), ["one", "two"])
        # Nova's statuses no server here has, and unknown ones, list nothing (Nova 2.1).
        for status in ("PAUSED", "SHELVED_OFFLOADED", "NOT_A_STATUS"):
            self.assertEqual(self.names(f"?status={status}"), [])
        refused = self.request("GET", "/v2.1/servers?status=DELETED")
        self.assertEqual(refused.status_int, 403)
        self.assertIn("Only administrators", refused.json["forbidden"]["message"])

    def test_name_is_a_regular_expression(self):
        for name in ("web-1", "web-2", "db-1"):
            self.create_server(name=name)
        self.assertEqual(sorted(self.names("?name=^web")), ["web-1", "web-2"])
        self.assertEqual(
            self.names("?name=-1$&sort_key=display_name&sort_dir=asc"), ["db-1", "web-1"]
        )
        self.assertEqual(self.names("?name=web-[3-9]"), [])
        refused = self.request("GET", "/v2.1/servers?name=web(")
        self.assertEqual(refused.status_int, 400)
        self.assertIn("query name", refused.json["badRequest"]["message"])

    def test_sorting_and_paging_by_a_sort_key(self):
        for name in ("d", "b", "e", "a", "c"):
            self.create_server(name=name)
        query = "?sort_key=display_name&sort_dir=desc"
        self.assertEqual(self.names(query), ["e", "d", "c", "b", "a"])
        seen, marker = [], None
        while True:
            page = self.request(
                "GET", f"/v2.1/servers{query}&limit=2" + (f"&marker={marker}" if marker else "")
            ).json["servers"]
            seen += [s["name"] for s in page]
            if len(page) < 2:
                break
            marker = page[-1]["id"]
        self.assertEqual(seen, ["e", "d", "c", "b", "a"])
        # Keys Nova ignores are dropped; a NULL column sorts first ascending.
        self.assertEqual(len(self.names("?sort_key=vcpus&sort_key=key_name&sort_dir=asc")), 5)
        for query, code in (
            ("?sort_key=host", 403),
            ("?sort_key=color", 400),
            ("?sort_dir=sideways", 400),
            ("?sort_key=uuid&sort_dir=asc&sort_dir=desc", 400),
            ("?sort_key=color&sort_key=uuid", 400),
            ("?all_tenants=perhaps", 400),
        ):
            with self.subTest(query=query):
                self.assertEqual(self.request("GET", f"/v2.1/servers{query}").status_int, code)
        self.assertEqual(len(self.names("?sort_key=host", ADMIN)), 0)  # admin's own project

    def test_admin_filters(self):
        kept = self.create_server(name="kept")
        gone = self.create_server(name="gone")
        self.create_server(name="theirs", token="bob:other")
        self.assertEqual(self.request("DELETE", f"/v2.1/servers/{gone}").status_int, 204)
        # A user's admin-only filters are dropped (Nova's remove_invalid_options).
        self.assertEqual(self.names("?deleted=True"), ["kept"])
        self.assertEqual(self.names("?host=nowhere&uuid=x"), ["kept"])
        self.assertEqual(self.request("GET", "/v2.1/servers?all_tenants=1").status_int, 403)
        self.assertEqual(sorted(self.names("?all_tenants", ADMIN)), ["kept", "theirs"])
        self.assertEqual(self.names("?all_tenants=1&project_id=other", ADMIN), ["theirs"])
        self.assertEqual(self.names("?all_tenants=1&deleted=true", ADMIN), ["gone"])
        self.assertEqual(self.names("?all_tenants=1&deleted=False&name=^k", ADMIN), ["kept"])
        self.assertEqual(self.names(f"?all_tenants=1&uuid={kept}", ADMIN), ["kept"])
        refused = self.request("GET", "/v2.1/servers?all_tenants=1&metadata=x", token=ADMIN)
        self.assertEqual(refused.status_int, 400)
        self.assertIn("Invalid filter field: metadata.", refused.json["badRequest"]["message"])

    def test_ip_filter_reads_fixed_ips(self):
        server_id = self.create_server(name="addressed")
        self.create_server(name="other")
        instance = instance_db.instance_get_by_uuid(nova_context.get_admin_context(), server_id)
        networks = models.Base.metadata.tables["networks"]
        fixed_ips = models.Base.metadata.tables["fixed_ips"]
        with db_session.get_engine().begin() as connection:
            network_id = connection.execute(
                sa.insert(networks).values(
                    uuid=str(uuid.uuid4()), label="net", cidr="10.9.0.0/24", vlan=900
                )
            ).inserted_primary_key[0]
            connection.execute(
                sa.insert(fixed_ips).values(
                    address="10.9.0.42", network_id=network_id, instance_id=instance.id
                )
            )
        self.assertEqual(self.names("?ip=10.9.0.4"), ["addressed"])
        self.assertEqual(self.names("?ip=^10\\.9\\.0\\.42$"), ["addressed"])
        self.assertEqual(self.names("?ip=10.8."), [])

    def test_bad_values_of_known_parameters(self):
        for query, name in (
            ("?changes-since=yesterday", "changes-since"),
            ("?limit=many", "limit"),
            ("?ip=[", "ip"),
        ):
            with self.subTest(query=query):
                refused = self.request("GET", f"/v2.1/servers{query}")
                self.assertEqual(refused.status_int, 400)
                self.assertIn(f"query {name}", refused.json["badRequest"]["message"])


class CreateBodyTestCase(api_fixtures.APITestCase):
    def post(self, server: dict, **top) -> object:
        return self.request("POST", "/v2.1/servers", {"server": server, **top})

    def row(self, server_id: str):
        return instance_db.instance_get_by_uuid(nova_context.get_admin_context(), server_id)

    def test_novas_own_sample_is_accepted(self):
        body = copy.deepcopy(NOVA_CREATE_SAMPLE)
        response = self.request("POST", "/v2.1/servers", body)
        self.assertEqual(response.status_int, 202, response.text)
        created = response.json["server"]
        self.assertEqual(created["OS-DCF:diskConfig"], "AUTO")
        self.assertEqual(created["security_groups"], [{"name": "default"}])
        self.assertEqual(len(created["adminPass"]), 12)
        row = self.row(created["id"])
        self.assertEqual(row.user_data, body["server"]["user_data"])
        self.assertEqual((row.access_ip_v4, row.access_ip_v6), ("1.2.3.4", "80fe::"))
        self.assertEqual(row.image_ref, body["server"]["imageRef"])
        self.assertNotIn(created["adminPass"], repr(row))  # never stored
        shown = self.request("GET", f"/v2.1/servers/{created['id']}").json["server"]
        self.assertEqual((shown["accessIPv4"], shown["accessIPv6"]), ("1.2.3.4", "80fe::"))
        self.assertEqual(shown["OS-DCF:diskConfig"], "AUTO")
        self.assertEqual(shown["OS-EXT-AZ:availability_zone"], "us-west")
        self.assertEqual(shown["metadata"], {"My Server Name": "Apache1"})

    def test_attributes_are_stored_and_shown(self):
        # key_name must name one of the caller's key pairs (generated here).
        made = self.request("POST", "/v2.1/os-keypairs", {"keypair": {"name": "mykey"}})
        self.assertEqual(made.status_int, 200, made.text)
        response = self.post(
            {
                "name": "vm",
                "imageRef": "cirros",
                "flavorRef": 1,
                "key_name": "mykey",
                "config_drive": "true",
                "security_groups": [{"name": "web"}, {"name": "ssh"}, {"name": "web"}],
                "adminPass": "s3cret-given",
                "min_count": "1",
                "max_count": "1",
            },
            **{"os:scheduler_hints": {"same_host": str(uuid.uuid4()), "custom": 1}},
        )
        self.assertEqual(response.status_int, 202, response.text)
        created = response.json["server"]
        self.assertEqual(created["adminPass"], "s3cret-given")
        self.assertEqual(created["security_groups"], [{"name": "web"}, {"name": "ssh"}])
        self.assertNotIn("s3cret-given", repr(self.row(created["id"])))
        shown = self.request("GET", f"/v2.1/servers/{created['id']}").json["server"]
        self.assertEqual(shown["key_name"], "mykey")
        self.assertEqual(shown["config_drive"], "True")
        self.assertEqual(shown["security_groups"], [{"name": "web"}, {"name": "ssh"}])
        self.assertEqual(shown["OS-DCF:diskConfig"], "MANUAL")
        self.assertEqual((shown["accessIPv4"], shown["accessIPv6"]), ("", ""))

    def test_no_admin_pass_when_disabled(self):
        CONF.set_override("enable_instance_password", False, group="api")
        self.addCleanup(CONF.clear_override, "enable_instance_password", group="api")
        response = self.post({"name": "vm", "imageRef": "cirros", "flavorRef": "1"})
        self.assertEqual(response.status_int, 202)
        self.assertNotIn("adminPass", response.json["server"])

    def test_block_device_mapping_of_an_image_as_openstack_sends_it(self):
        image = str(uuid.uuid4())
        mapping = {
            "uuid": image,
            "boot_index": 0,
            "source_type": "image",
            "destination_type": "local",
            "delete_on_termination": True,
        }
        for image_ref in ("", image, None):
            server = {"name": "vm", "flavorRef": "1", "block_device_mapping_v2": [mapping]}
            if image_ref is not None:
                server["imageRef"] = image_ref
            response = self.post(server)
            self.assertEqual(response.status_int, 202, response.text)
            self.assertEqual(self.row(response.json["server"]["id"]).image_ref, image)

    def test_refused_bodies_write_nothing(self):
        base = {"name": "vm", "imageRef": "cirros", "flavorRef": "1"}
        volume = {"uuid": str(uuid.uuid4()), "source_type": "volume", "destination_type": "volume",
                  "boot_index": 0}  # fmt: skip
        cases = [
            ({**base, "block_device_mapping_v2": [volume]}, "not supported"),
            (
                {**base, "block_device_mapping_v2": [{"source_type": "blank", "boot_index": -1}]},
                "not supported",
            ),  # fmt: skip
            ({**base, "block_device_mapping": [{"volume_id": str(uuid.uuid4())}]}, "not supported"),
            (
                {
                    **base,
                    "block_device_mapping_v2": [
                        {**volume, "source_type": "image", "destination_type": "local"}
                    ],
                },
                "Conflicting image",
            ),  # fmt: skip
            ({"name": "vm", "flavorRef": "1"}, "Missing imageRef"),
            ({"name": "vm", "flavorRef": "1", "imageRef": ""}, "Missing imageRef"),
            ({**base, "user_data": "x" * 65536}, "user_data"),
            ({**base, "user_data": "not base64!"}, "user_data"),
            ({**base, "accessIPv4": "1.2.3"}, "accessIPv4"),
            ({**base, "accessIPv6": "1.2.3.4"}, "accessIPv6"),
            ({**base, "OS-DCF:diskConfig": "SOMETIMES"}, "OS-DCF:diskConfig"),
            ({**base, "config_drive": "perhaps"}, "config_drive"),
            ({**base, "security_groups": [{"id": "x"}]}, "security_groups"),
            ({**base, "personality": [{"path": "/a", "contents": "abc"}]}, "personality"),
            ({**base, "key_name": ""}, "key_name"),
            ({**base, "min_count": "0"}, "min_count"),
            ({**base, "min_count": 0}, "min_count"),
            ({**base, "max_count": "100000"}, "max_count"),
            ({**base, "description": "2.19 only"}, "description"),
        ]
        for server, named in cases:
            with self.subTest(server=server):
                response = self.post(server)
                self.assertEqual(response.status_int, 400, response.text)
                self.assertIn(named, response.json["badRequest"]["message"])
        refused = self.request("POST", "/v2.1/servers", {"server": base, "scheduler_hints": {}})
        self.assertEqual(refused.status_int, 400)
        refused = self.post(
            base, **{"OS-SCH-HNT:scheduler_hints": {"different_host": "not-a-uuid"}}
        )
        self.assertEqual(refused.status_int, 400)
        self.assertEqual(self.count("instances", live=False), 0)
        self.assertEqual(self.count("virtual_interfaces", live=False), 0)

    def test_user_data_at_the_limit(self):
        data = base64.b64encode(b"x" * (65535 // 4 * 3)).decode()
        self.assertLessEqual(len(data), 65535)
        response = self.post({"name": "vm", "imageRef": "cirros", "flavorRef": "1",
                              "user_data": data})  # fmt: skip
        self.assertEqual(response.status_int, 202, response.text)
        self.assertEqual(self.row(response.json["server"]["id"]).user_data, data)


class ServerViewTestCase(api_fixtures.APITestCase):
    EXTENDED = {"OS-EXT-SRV-ATTR:host", "OS-EXT-SRV-ATTR:hypervisor_hostname",
                "OS-EXT-SRV-ATTR:instance_name"}  # fmt: skip

    def test_admin_sees_extended_server_attributes(self):
        server_id = self.create_server()
        admin = nova_context.get_admin_context()
        instance = instance_db.instance_update(admin, server_id, {"host": "compute1"})
        mine = self.request("GET", f"/v2.1/servers/{server_id}").json["server"]
        self.assertFalse(self.EXTENDED & set(mine))
        shown = self.request("GET", f"/v2.1/servers/{server_id}", token="admin:demo").json["server"]
        self.assertEqual(shown["OS-EXT-SRV-ATTR:host"], "compute1")
        self.assertEqual(shown["OS-EXT-SRV-ATTR:hypervisor_hostname"], "compute1")
        self.assertEqual(shown["OS-EXT-SRV-ATTR:instance_name"], f"instance-{instance.id:08x}")
        listed = self.request("GET", "/v2.1/servers/detail?all_tenants=1", token=ADMIN).json
        self.assertTrue(self.EXTENDED <= set(listed["servers"][0]))

    def test_progress_as_nova_shows_it(self):
        server_id = self.create_server()
        admin = nova_context.get_admin_context()
        for vm_state, progress in (("building", 0), ("active", 0), ("error", None),
                                   ("stopped", None), ("defined", None)):  # fmt: skip
            instance_db.instance_update(admin, server_id, {"vm_state": vm_state})
            shown = self.request("GET", f"/v2.1/servers/{server_id}").json["server"]
            self.assertEqual(shown.get("progress"), progress, vm_state)

    def test_update_answers_novas_2_1_shape(self):
        server_id = self.create_server()
        response = self.request("PUT", f"/v2.1/servers/{server_id}", {"server": {"name": "new"}})
        self.assertEqual(response.status_int, 200)
        server = response.json["server"]
        self.assertEqual(server["name"], "new")
        self.assertEqual(
            set(server) - {"progress", "fault"},
            {"id", "name", "status", "tenant_id", "user_id", "metadata", "hostId", "image",
             "flavor", "created", "updated", "addresses", "accessIPv4", "accessIPv6",
             "links", "OS-DCF:diskConfig"},
        )  # fmt: skip
        full = self.request("GET", f"/v2.1/servers/{server_id}").json["server"]
        for key in ("OS-EXT-STS:vm_state", "OS-SRV-USG:launched_at", "key_name",
                    "security_groups", "config_drive", "OS-EXT-AZ:availability_zone"):  # fmt: skip
            self.assertIn(key, full)

    def test_update_takes_novas_2_1_keys(self):
        server_id = self.create_server()
        body = {"server": {"accessIPv4": "10.0.0.9", "accessIPv6": "fe80::9",
                           "OS-DCF:diskConfig": "AUTO"}}  # fmt: skip
        response = self.request("PUT", f"/v2.1/servers/{server_id}", body)
        self.assertEqual(response.status_int, 200, response.text)
        server = response.json["server"]
        self.assertEqual(
            (server["accessIPv4"], server["accessIPv6"], server["OS-DCF:diskConfig"]),
            ("10.0.0.9", "fe80::9", "AUTO"),
        )
        self.assertEqual(server["name"], "vm")  # what was not given stays
        nothing = self.request("PUT", f"/v2.1/servers/{server_id}", {"server": {}})
        self.assertEqual(nothing.status_int, 200, nothing.text)
        for bad in ({"accessIPv4": "10.0.0.300"}, {"OS-DCF:diskConfig": "auto"}, {"x": 1}):
            with self.subTest(bad=bad):
                refused = self.request("PUT", f"/v2.1/servers/{server_id}", {"server": bad})
                self.assertEqual(refused.status_int, 400, refused.text)
        shown = self.request("GET", f"/v2.1/servers/{server_id}").json["server"]
        self.assertEqual(shown["accessIPv4"], "10.0.0.9")

    def test_links_keep_the_project_id_of_the_request(self):
        server_id = self.create_server()
        for prefix, segment in (("/v2.1/demo", "/demo"), ("/v2.1", "")):
            with self.subTest(prefix=prefix):
                server = self.request("GET", f"{prefix}/servers/{server_id}").json["server"]
                self.assertEqual(
                    server["links"],
                    [
                        {"rel": "self",
                         "href": f"http://localhost/v2.1{segment}/servers/{server_id}"},
                        {"rel": "bookmark",
                         "href": f"http://localhost{segment}/servers/{server_id}"},
                    ],
                )  # fmt: skip
                self.assertEqual(
                    server["flavor"]["links"][0]["href"], f"http://localhost{segment}/flavors/1"
                )
                flavor = self.request("GET", f"{prefix}/flavors/1").json["flavor"]
                self.assertEqual(
                    flavor["links"][0]["href"], f"http://localhost/v2.1{segment}/flavors/1"
                )
                created = self.request(
                    "POST",
                    f"{prefix}/servers",
                    {"server": {"name": "vm", "imageRef": "cirros", "flavorRef": "1"}},
                ).json["server"]
                self.assertTrue(
                    created["links"][1]["href"].startswith(f"http://localhost{segment}/servers/")
                )

    def test_vif_list_in_novas_2_1_format_with_links(self):
        network = self.quantum_network()
        server_id = self.create_server(networks=[{"uuid": network}])
        for prefix in ("/v2.1", "/v2.1/demo"):
            vifs = self.request("GET", f"{prefix}/servers/{server_id}/os-virtual-interfaces").json[
                "virtual_interfaces"
            ]
            (vif,) = vifs
            self.assertEqual(set(vif), {"id", "mac_address", "OS-EXT-VIF-NET:net_id", "links"})
            self.assertEqual(vif["OS-EXT-VIF-NET:net_id"], network)
            self.assertEqual(
                vif["links"],
                [{"rel": "self", "href": f"http://localhost{prefix}/servers/{server_id}"
                  f"/os-virtual-interfaces/{vif['id']}"}],
            )  # fmt: skip

    def test_extension_dates_as_nova_writes_them(self):
        for extension in self.request("GET", "/v2.1/extensions").json["extensions"]:
            self.assertRegex(extension["updated"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
