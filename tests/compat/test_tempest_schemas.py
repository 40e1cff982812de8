"""Every response of the suite's calls against tempest's compute v2.1 response schemas.

The schemas are tempest's own (``tools/client-venv.sh`` installs tempest
47.0.0, and 35.0.0 for ``list_virtual_interfaces``, removed after it). The
VIF list carries this project's documented addition, each VIF's ``links``
(its globally unique URL): the schema used is tempest's with ``links``
allowed, and ``net_id`` as microversion 2.12 adds it.
"""

from __future__ import annotations

import copy

from tests.compat import base

ADMIN = f"admin:{base.PROJECT}"


def vif_schema(microversion_2_12: bool) -> dict:
    """Return tempest 35.0.0's VIF list schema plus our ``links`` (and 2.12's ``net_id``)."""
    derived = copy.deepcopy(base.schema("v2_1.servers:list_virtual_interfaces", base.OLD_TEMPEST))
    item = derived["response_body"]["properties"]["virtual_interfaces"]["items"]
    item["properties"]["links"] = {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {"rel": {"type": "string"}, "href": {"type": "string"}},
            "required": ["rel", "href"],
        },
    }
    if microversion_2_12:
        item["properties"]["net_id"] = {"type": "string"}
        item["required"].append("net_id")
    return derived


class TempestSchemaTestCase(base.ClientTestCase):
    uses_glance = True

    def check(self, name: str, method: str, path: str, body=None, token=base.PROJECT, **kw):
        response = self.call(method, path, body, token=token, **kw)
        base.validate(self, name, response)
        return response

    def test_versions_extensions_flavors(self):
        root = self.http.get(self.api.rsplit("/v2.1", 1)[0] + "/", timeout=30)
        base.validate(self, "v2_1.versions:list_versions", root)
        self.check("v2_1.versions:get_one_version", "GET", "/")
        self.check("v2_1.extensions:list_extensions", "GET", "/extensions")
        self.check("v2_1.flavors:list_flavors", "GET", "/flavors")
        self.check("v2_1.flavors:list_flavors_details", "GET", "/flavors/detail")
        self.check("v2_1.flavors:create_update_get_flavor_details", "GET", "/flavors/1")
        self.check(
            "v2_1.flavors_extra_specs:set_get_flavor_extra_specs",
            "GET",
            "/flavors/1/os-extra_specs",
        )

    def test_image_proxy(self):
        # Nova's image proxy of the Glance test server (self.image made for this test).
        image_id = self.image_ref
        listed = self.check("v2_1.images:list_images", "GET", "/images")
        self.assertIn(image_id, [i["id"] for i in listed.json()["images"]])
        paged = self.check("v2_1.images:list_images", "GET", "/images?limit=1")
        self.assertEqual(len(paged.json()["images"]), 1)
        detail = self.check("v2_1.images:list_images_details", "GET", "/images/detail")
        self.assertIn(image_id, [i["id"] for i in detail.json()["images"]])
        shown = self.check("v2_1.images:get_image", "GET", f"/images/{image_id}").json()["image"]
        self.assertEqual((shown["status"], shown["name"]), ("ACTIVE", self.image["name"]))
        doomed = self.glance_image()
        self.check("v2_1.images:delete", "DELETE", f"/images/{doomed['id']}")
        self.assertEqual(self.call("GET", f"/images/{doomed['id']}").status_code, 404)

    def launch(self, port: str) -> str:
        """Create a server on ``port`` (adminPass answer checked); return its id once ACTIVE."""
        created = self.check(
            "v2_1.servers:create_server_with_admin_pass",
            "POST",
            "/servers",
            {
                "server": {
                    "name": "ts1",
                    "imageRef": self.image_ref,
                    "flavorRef": "1",
                    "networks": [{"port": port}],
                }
            },
        )
        server_id = created.json()["server"]["id"]
        self.wait_status(server_id, "ACTIVE")
        return server_id

    def test_server_create_show_list_update_vifs_delete(self):
        net, port = self.make_port()
        server_id = self.launch(port)
        self.check("v2_1.servers:get_server", "GET", f"/servers/{server_id}")
        self.check(
            "v2_1.servers:get_server", "GET", f"/servers/{server_id}", token=f"admin:{base.PROJECT}"
        )
        self.check("v2_1.servers:list_servers", "GET", "/servers")
        self.check("v2_1.servers:list_servers_detail", "GET", "/servers/detail")
        self.check(
            "v2_1.servers:update_server",
            "PUT",
            f"/servers/{server_id}",
            {"server": {"name": "ts2"}},
        )
        vifs = self.call("GET", f"/servers/{server_id}/os-virtual-interfaces")
        base.validate(self, vif_schema(False), vifs)
        self.assertEqual(len(vifs.json()["virtual_interfaces"]), 1)
        self.check("v2_1.servers:delete_server", "DELETE", f"/servers/{server_id}")
        self.wait_gone(server_id)

    def test_vif_list_at_2_12(self):
        version = self.http.get(f"{self.api}/", timeout=30).json()["version"]
        if tuple(map(int, version["version"].split("."))) < (2, 12):
            self.skipTest(f"the API claims {version['version']}: 2.12's net_id is not claimed")
        net, port = self.make_port()
        server_id = self.server_on_port(port, "v", wait=False)
        vifs = self.call(
            "GET",
            f"/servers/{server_id}/os-virtual-interfaces",
            headers={"OpenStack-API-Version": "compute 2.12"},
        )
        base.validate(self, vif_schema(True), vifs)
        self.assertEqual(vifs.json()["virtual_interfaces"][0]["net_id"], net)

    def test_server_ips_and_interfaces(self):
        net, port = self.make_port()
        server_id = self.server_on_port(port, "i")
        self.check("v2_1.servers:list_addresses", "GET", f"/servers/{server_id}/ips")
        self.check("v2_1.interfaces:list_interfaces", "GET", f"/servers/{server_id}/os-interface")
        self.check(
            "v2_1.interfaces:get_create_interfaces",
            "GET",
            f"/servers/{server_id}/os-interface/{port}",
        )
        # Hot-plug a second port, then unplug it (tempest's create/delete schemas).
        _net, other = self.make_port()
        self.check(
            "v2_1.interfaces:get_create_interfaces",
            "POST",
            f"/servers/{server_id}/os-interface",
            {"interfaceAttachment": {"port_id": other}},
        )
        self.check(
            "v2_1.interfaces:delete_interface",
            "DELETE",
            f"/servers/{server_id}/os-interface/{other}",
        )

    def test_server_metadata(self):
        created = self.call(
            "POST",
            "/servers",
            {
                "server": {
                    "name": "md",
                    "imageRef": self.image_ref,
                    "flavorRef": "1",
                    "networks": "none",
                    "metadata": {"a": "1"},
                }
            },
        )
        self.assertEqual(created.status_code, 202, created.text)
        sid = created.json()["server"]["id"]
        self.wait_status(sid, "ACTIVE")  # Nova changes metadata of settled servers only
        self.check("v2_1.servers:list_server_metadata", "GET", f"/servers/{sid}/metadata")
        self.check(
            "v2_1.servers:update_server_metadata",
            "POST",
            f"/servers/{sid}/metadata",
            {"metadata": {"b": "2"}},
        )
        self.check(
            "v2_1.servers:set_server_metadata",
            "PUT",
            f"/servers/{sid}/metadata",
            {"metadata": {"c": "3"}},
        )
        self.check(
            "v2_1.servers:set_show_server_metadata_item", "GET", f"/servers/{sid}/metadata/c"
        )
        self.check(
            "v2_1.servers:set_show_server_metadata_item",
            "PUT",
            f"/servers/{sid}/metadata/c",
            {"meta": {"c": "4"}},
        )
        self.check(
            "v2_1.servers:delete_server_metadata_item", "DELETE", f"/servers/{sid}/metadata/c"
        )

    def test_keypairs_limits_quotas(self):
        self.check(
            "v2_1.keypairs:create_keypair", "POST", "/os-keypairs", {"keypair": {"name": "k1"}}
        )
        self.check("v2_1.keypairs:list_keypairs", "GET", "/os-keypairs")
        self.check("v2_1.keypairs:get_keypair", "GET", "/os-keypairs/k1")
        self.check("v2_1.keypairs:delete_keypair", "DELETE", "/os-keypairs/k1")
        self.check("v2_1.limits:get_limit", "GET", "/limits")
        self.check("v2_1.quotas:get_quota_set", "GET", f"/os-quota-sets/{base.PROJECT}")
        self.check("v2_1.quotas:get_quota_set", "GET", f"/os-quota-sets/{base.PROJECT}/defaults")

    def test_availability_zones(self):
        self.check(
            "v2_1.availability_zone:list_availability_zone_list", "GET", "/os-availability-zone"
        )
        self.check(
            "v2_1.availability_zone:list_availability_zone_list_detail",
            "GET",
            "/os-availability-zone/detail",
            token=f"admin:{base.PROJECT}",
        )


class AdminSchemaTestCase(base.ClientTestCase):
    """The operator's calls: services, hypervisors, aggregates, a server's state reset."""

    def check(self, name: str, method: str, path: str, body=None):
        response = self.call(method, path, body, token=ADMIN)
        base.validate(self, name, response)
        return response

    def test_services_hypervisors_aggregates(self):
        services = self.check("v2_1.services:list_services", "GET", "/os-services").json()
        self.assertIn("nova-compute", [s["binary"] for s in services["services"]])
        host = {"host": "allinone", "binary": "nova-compute"}
        self.check("v2_1.services:enable_disable_service", "PUT", "/os-services/disable", host)
        self.check(
            "v2_1.services:disable_log_reason",
            "PUT",
            "/os-services/disable-log-reason",
            {**host, "disabled_reason": "maintenance"},
        )
        self.check("v2_1.services:enable_disable_service", "PUT", "/os-services/enable", host)

        listed = self.check("v2_1.hypervisors:list_search_hypervisors", "GET", "/os-hypervisors")
        (hypervisor_id,) = [h["id"] for h in listed.json()["hypervisors"]]
        self.check("v2_1.hypervisors:list_hypervisors_detail", "GET", "/os-hypervisors/detail")
        self.check("v2_1.hypervisors:get_hypervisor", "GET", f"/os-hypervisors/{hypervisor_id}")
        self.check(
            "v2_1.hypervisors:get_hypervisor_statistics", "GET", "/os-hypervisors/statistics"
        )
        self.check(
            "v2_1.hypervisors:get_hypervisor_uptime",
            "GET",
            f"/os-hypervisors/{hypervisor_id}/uptime",
        )
        self.check("v2_1.aggregates:list_aggregates", "GET", "/os-aggregates")

    def test_reset_state(self):
        body = {"server": {"name": "s", "imageRef": self.image_ref, "flavorRef": "1"}}
        server_id = self.call("POST", "/servers", body).json()["server"]["id"]
        self.wait_status(server_id, "ACTIVE")
        for state in ("error", "active"):
            self.check(
                "v2_1.servers:server_actions_common_schema",
                "POST",
                f"/servers/{server_id}/action",
                {"os-resetState": {"state": state}},
            )
        self.assertEqual(
            self.call("GET", f"/servers/{server_id}").json()["server"]["status"], "ACTIVE"
        )
