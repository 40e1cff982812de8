"""The security matrix of the compute API, and hostile input end to end.

The route matrix is built from the router's own table (``route_table``),
checked against an explicit table of what every route must answer, so a new
route cannot be added without saying how it is protected:

* another project's request on any route sees 404 (or only its own things)
  and the database is unchanged, row for row;
* admin-only policy rules refuse (403) or hide what they guard from others;
* a missing or malformed token is 401 on every authenticated route.

Against a real ``nova-all``:

* Quantum port ``configuration`` values crafted to break out of the domain
  XML (``</source><evil/>``, quotes, entity references, CDATA ends; set
  through Quantum's JSON and XML formats) and a hostile server name leave
  the domain XML schema-valid, with every value literal;
* bodies over 1 MiB (honest, lying or absent ``Content-Length``, chunked)
  are refused with 413 before they are parsed, on Nova's API and on
  Quantum's.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
import time

import sqlalchemy as sa
from lxml import etree

import nova.conf
from nova import context as nova_context
from nova import policies
from nova.compute import host_api
from nova.db import instances as instance_db
from nova.db import services as service_db
from nova.db import session as db_session
from nova.image import local as local_images
from nova.policies import base as base_policies
from tests.fixtures import api as api_fixtures
from tests.fixtures import libvirt_schema
from tests.fixtures import processes as process_fixtures
from tests.fixtures.processes import USER

CONF = nova.conf.CONF
VICTIM = "alice:demo"
ADMIN = "admin:admin"
ATTACKER = "mallory:other"
PREFIXES = ("/v2.1/{project_id}", "/v2.1")
PUBLIC = {("/", "GET"), ("/v2", "GET"), ("/v2.1", "GET"), ("/v2.1/openapi.json", "GET")}

# What another project's request gets on every authenticated route (path
# after the prefix, method): 404 for the victim's server and what hangs off
# it; "own" for collections, which list only the caller's servers; 400 for a
# create naming the victim's port or network; "shared" for the catalogue.
CROSS_PROJECT = {
    ("/servers", "GET"): "own",
    ("/servers", "POST"): 400,
    ("/servers/detail", "GET"): "own",
    ("/servers/{server_id}", "GET"): 404,
    ("/servers/{server_id}", "PUT"): 404,
    ("/servers/{server_id}", "DELETE"): 404,
    ("/servers/{server_id}/action", "POST"): 404,
    ("/servers/{server_id}/os-virtual-interfaces", "GET"): 404,
    ("/servers/{server_id}/os-virtual-interfaces/{id}", "GET"): 404,
    ("/servers/{server_id}/metadata", "GET"): 404,
    ("/servers/{server_id}/metadata", "POST"): 404,
    ("/servers/{server_id}/metadata", "PUT"): 404,
    ("/servers/{server_id}/metadata/{id}", "GET"): 404,
    ("/servers/{server_id}/metadata/{id}", "PUT"): 404,
    ("/servers/{server_id}/metadata/{id}", "DELETE"): 404,
    ("/servers/{server_id}/ips", "GET"): 404,
    ("/servers/{server_id}/ips/{id}", "GET"): 404,
    ("/servers/{server_id}/os-interface", "GET"): 404,
    ("/servers/{server_id}/os-interface", "POST"): 404,
    ("/servers/{server_id}/os-interface/{id}", "GET"): 404,
    ("/servers/{server_id}/os-interface/{id}", "DELETE"): 404,
    ("/os-availability-zone", "GET"): "shared",
    ("/os-availability-zone/detail", "GET"): 403,
    ("/flavors", "GET"): "shared",
    ("/flavors/detail", "GET"): "shared",
    ("/flavors/{flavor_id}", "GET"): "shared",
    ("/extensions", "GET"): "shared",
    ("/extensions/{alias}", "GET"): "shared",
    # Flavors and their extra specs are read by all, written by admins only.
    ("/flavors", "POST"): 403,
    ("/flavors/{flavor_id}", "DELETE"): 403,
    ("/flavors/{flavor_id}/os-extra_specs", "GET"): "shared",
    ("/flavors/{flavor_id}/os-extra_specs", "POST"): 403,
    ("/flavors/{flavor_id}/os-extra_specs/{key}", "GET"): "shared",
    ("/flavors/{flavor_id}/os-extra_specs/{key}", "PUT"): 403,
    ("/flavors/{flavor_id}/os-extra_specs/{key}", "DELETE"): 403,
    # The hosts of the cloud: admins only.
    ("/os-services", "GET"): 403,
    ("/os-services/{service_id}", "PUT"): 403,
    ("/os-services/{service_id}", "DELETE"): 403,
    ("/os-hypervisors", "GET"): 403,
    ("/os-hypervisors/detail", "GET"): 403,
    ("/os-hypervisors/statistics", "GET"): 403,
    ("/os-hypervisors/{hypervisor_id}", "GET"): 403,
    ("/os-hypervisors/{hypervisor_id}/uptime", "GET"): 403,
    ("/os-aggregates", "GET"): 403,
    # Their own limits; another project's quotas are the admins' (403).
    ("/limits", "GET"): "shared",
    ("/os-quota-sets/{tenant_id}", "GET"): 403,
    ("/os-quota-sets/{tenant_id}", "PUT"): 403,
    ("/os-quota-sets/{tenant_id}", "DELETE"): 403,
    ("/os-quota-sets/{tenant_id}/defaults", "GET"): "shared",
    ("/os-quota-sets/{tenant_id}/detail", "GET"): 403,
    # Key pairs are each user's: their own list, 404 on the victim's; a create
    # makes the attacker's own (refused here: their key_pairs quota is 0).
    ("/os-keypairs", "GET"): "own",
    ("/os-keypairs", "POST"): 403,
    ("/os-keypairs/{keypair_name}", "GET"): 404,
    ("/os-keypairs/{keypair_name}", "DELETE"): 404,
    # The image proxy: without an image service (here) nothing to list or find.
    ("/images", "GET"): "own",
    ("/images/detail", "GET"): "own",
    ("/images/{image_id}", "GET"): 404,
    ("/images/{image_id}", "DELETE"): 404,
}
PUBLIC_KEY = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPQ9+NS55K0dC1UEnj4SEyy0BYPoi4RaQioiuHzX02k9 victim"
)
# Tokens that name no user: each must be 401 everywhere.
BAD_TOKENS = [None, "", "   ", ":", ":demo", ":admin"]
ONE_MIB = 1024 * 1024


def routes(app) -> set[tuple[str, str]]:
    """Return every (path template, method) the router serves."""
    return {
        (path, method) for path, (_, actions, _) in app.route_table.items() for method in actions
    }


def split_prefix(path: str) -> tuple[str, str]:
    for prefix in PREFIXES:
        if path.startswith(prefix + "/"):
            return prefix, path[len(prefix) :]
    raise AssertionError(f"route {path} is under no known prefix")


class RouteMatrixTestCase(api_fixtures.APITestCase):
    """Every route of the in-process API against another project and bad tokens."""

    def setUp(self) -> None:
        super().setUp()
        self.network = self.quantum_network()
        self.server_id = self.create_server(networks=[{"uuid": self.network}], launch=False)
        (vif,) = self.request("GET", f"/v2.1/servers/{self.server_id}/os-virtual-interfaces").json[
            "virtual_interfaces"
        ]
        admin = nova_context.get_admin_context()
        host_api.update_extra_specs(admin, "1", {"hw:cpu_policy": "shared"})
        compute = service_db.service_get_or_create(admin, "c1", "nova-compute", {})
        node = service_db.compute_node_update(
            admin, "c1", compute.id, {"vcpus": 1, "memory_mb": 512, "local_gb": 1}
        )
        self.values = {
            "server_id": self.server_id,
            "id": vif["id"],
            "flavor_id": "1",
            "alias": "os-server-launch",
            "key": "hw:cpu_policy",
            "service_id": str(compute.id),
            "hypervisor_id": str(node.id),
            "tenant_id": "demo",
            "keypair_name": "victim key",
            "image_id": "0b3f9a54-8c1e-4f4b-a1c3-7d0e2f6a9b11",
        }
        keypair = {"keypair": {"name": "victim key", "public_key": PUBLIC_KEY}}
        self.assertEqual(self.request("POST", "/v2.1/os-keypairs", keypair).status_int, 200)
        no_key_pairs = {"quota_set": {"key_pairs": 0}}
        response = self.request("PUT", "/v2.1/os-quota-sets/other", no_key_pairs, token=ADMIN)
        self.assertEqual(response.status_int, 200, response.text)
        self.free_port = self.quantum_port(self.network)
        self.bodies = {
            ("/servers", "POST"): [
                {"server": {"name": "x", "imageRef": "c", "flavorRef": "1", "networks": nets}}
                for nets in ([{"port": self.free_port}], [{"uuid": self.network}])
            ],
            ("/servers/{server_id}", "PUT"): [{"server": {"name": "stolen"}}],
            ("/servers/{server_id}/action", "POST"): [
                {"launch": None},
                {"os-getConsoleOutput": {"length": 5}},
            ],
            ("/servers/{server_id}/metadata", "POST"): [{"metadata": {"stolen": "1"}}],
            ("/servers/{server_id}/metadata", "PUT"): [{"metadata": {}}],
            # The URL's key and the body's: the same, and not (404 before 400).
            ("/servers/{server_id}/metadata/{id}", "PUT"): [
                {"meta": {self.values["id"]: "x"}},
                {"meta": {"other": "x"}},
            ],
            ("/servers/{server_id}/os-interface", "POST"): [
                {"interfaceAttachment": {"port_id": self.free_port}}
            ],
            ("/flavors", "POST"): [{"flavor": {"name": "f", "ram": 1, "vcpus": 1, "disk": 0}}],
            ("/flavors/{flavor_id}/os-extra_specs", "POST"): [{"extra_specs": {"k": "v"}}],
            ("/flavors/{flavor_id}/os-extra_specs/{key}", "PUT"): [{"hw:cpu_policy": "x"}],
            ("/os-services/{service_id}", "PUT"): [{"host": "c1", "binary": "nova-compute"}],
            ("/os-quota-sets/{tenant_id}", "PUT"): [{"quota_set": {"instances": 0}}],
            ("/os-keypairs", "POST"): [keypair],
        }

    def path(self, template: str, project: str) -> str:
        return template.format(project_id=project, **self.values).replace(" ", "%20")

    def snapshot(self) -> dict[str, list]:
        """Every row of every table of Nova's database."""
        engine = db_session.get_engine()
        tables = sa.inspect(engine).get_table_names()
        with engine.connect() as connection:
            return {
                table: sorted(map(tuple, connection.execute(sa.text(f"SELECT * FROM {table}"))))
                for table in tables
            }

    def test_the_tables_name_every_route(self):
        authenticated = set()
        for path, method in routes(self.app):
            if (path, method) in PUBLIC:
                continue
            authenticated.add((split_prefix(path)[1], method))
        self.assertEqual(authenticated, set(CROSS_PROJECT))
        self.assertLessEqual(routes(self.app) - {
            (prefix + suffix, method) for prefix in PREFIXES for suffix, method in CROSS_PROJECT
        }, PUBLIC)  # fmt: skip

    def test_another_project_sees_404_and_changes_nothing(self):
        before = self.snapshot()
        attachments_before = self.attachment(self.network, self.free_port)
        for template, method in sorted(routes(self.app) - PUBLIC):
            prefix, suffix = split_prefix(template)
            expected = CROSS_PROJECT[(suffix, method)]
            for body in self.bodies.get((suffix, method), [None]):
                path = self.path(template, "other")
                with self.subTest(method=method, path=path, body=body):
                    response = self.request(method, path, body, token=ATTACKER)
                    if expected == "own":
                        self.assertEqual(response.status_int, 200, response.text)
                        ((_, listed),) = response.json.items()
                        self.assertEqual(listed, [])
                    elif expected == "shared":
                        self.assertEqual(response.status_int, 200, response.text)
                    else:
                        self.assertEqual(response.status_int, expected, response.text)
                        ((_, fault),) = response.json.items()
                        self.assertTrue(fault["message"])
                    if prefix == "/v2.1/{project_id}":
                        # The victim's project in the URL: refused outright.
                        victims = self.request(
                            method, self.path(template, "demo"), body, token=ATTACKER
                        )
                        self.assertEqual(victims.status_int, 400, victims.text)
        self.assertEqual(self.snapshot(), before)
        self.assertEqual(self.attachment(self.network, self.free_port), attachments_before)
        self.scheduled.assert_not_called()

    def test_bad_tokens_are_401_on_every_authenticated_route(self):
        before = self.snapshot()
        for template, method in sorted(routes(self.app) - PUBLIC):
            path = self.path(template, "demo")
            body = self.bodies.get((split_prefix(template)[1], method), [None])[0]
            for token in BAD_TOKENS:
                with self.subTest(method=method, path=path, token=token):
                    response = self.request(method, path, body, token=token)
                    self.assertEqual(response.status_int, 401, response.text)
                    self.assertEqual(response.json["unauthorized"]["code"], 401)
        for path, method in PUBLIC:
            with self.subTest(public=path):
                self.assertEqual(self.request(method, path, token=None).status_int, 200)
        self.assertEqual(self.snapshot(), before)

    def test_admin_only_rules_refuse_or_hide_from_others(self):
        # Each admin rule of the policy, and how a non-admin meets it.
        server = f"/v2.1/servers/{self.server_id}"
        self.make_error(self.server_id)
        specs = "/v2.1/flavors/1/os-extra_specs"
        rule = "os_compute_api:%s"
        checks = {
            rule % "os-flavor-extra-specs:create": lambda: self.check_refused(
                "POST", "/v2.1/flavors/99/os-extra_specs", {"extra_specs": {"k": "v"}}
            ),
            rule % "os-flavor-extra-specs:update": lambda: self.check_refused(
                "PUT", f"{specs}/hw:cpu_policy", {"hw:cpu_policy": "dedicated"}
            ),
            rule % "os-flavor-extra-specs:delete": lambda: self.check_refused(
                "DELETE", f"{specs}/unknown-key"
            ),
            rule % "os-flavor-manage:create": lambda: self.check_refused(
                "POST", "/v2.1/flavors", {"flavor": {"name": "f", "ram": 1, "vcpus": 1}}
            ),
            rule % "os-flavor-manage:delete": lambda: self.check_refused(
                "DELETE", "/v2.1/flavors/99"
            ),
            rule % "os-services:list": lambda: self.check_refused("GET", "/v2.1/os-services"),
            rule % "os-services:update": lambda: self.check_refused(
                "PUT", "/v2.1/os-services/disable", {"host": "c9", "binary": "nova-compute"}
            ),
            rule % "os-services:delete": lambda: self.check_refused(
                "DELETE", "/v2.1/os-services/999"
            ),
            rule % "os-hypervisors:list": lambda: self.check_refused("GET", "/v2.1/os-hypervisors"),
            rule % "os-hypervisors:list-detail": lambda: self.check_refused(
                "GET", "/v2.1/os-hypervisors/detail"
            ),
            rule % "os-hypervisors:show": lambda: self.check_refused(
                "GET", "/v2.1/os-hypervisors/1"
            ),
            rule % "os-hypervisors:statistics": lambda: self.check_refused(
                "GET", "/v2.1/os-hypervisors/statistics"
            ),
            rule % "os-hypervisors:uptime": lambda: self.check_refused(
                "GET", "/v2.1/os-hypervisors/999/uptime"
            ),
            rule % "os-aggregates:index": lambda: self.check_refused("GET", "/v2.1/os-aggregates"),
            rule % "os-admin-actions:reset_state": lambda: self.check_refused(
                # error: the server stays as make_error left it (its fault shown)
                "POST",
                f"{server}/action",
                {"os-resetState": {"state": "error"}},
            ),
            rule % "servers:index:get_all_tenants": self.check_all_tenants,
            rule % "servers:detail:get_all_tenants": self.check_all_tenants,
            rule % "servers:allow_all_filters": self.check_filters_dropped,
            rule % "servers:show:host_status": lambda: self.check_hidden(
                server, lambda s: "OS-EXT-SRV-ATTR:host" in s
            ),
            rule % "os-availability-zone:detail": self.check_zone_detail,
            rule % "os-quota-sets:show": lambda: self.check_own_or_admin("/v2.1/os-quota-sets/{}"),
            rule % "os-quota-sets:detail": lambda: self.check_own_or_admin(
                "/v2.1/os-quota-sets/{}/detail"
            ),
            rule % "os-quota-sets:update": lambda: self.check_admin_only(
                "PUT", "/v2.1/os-quota-sets/demo", {"quota_set": {"instances": 50}}, 200
            ),
            rule % "os-quota-sets:delete": lambda: self.check_admin_only(
                "DELETE", "/v2.1/os-quota-sets/demo", None, 202
            ),
            rule % "limits:other_project": lambda: self.check_admin_only(
                "GET", "/v2.1/limits?tenant_id=other", None, 200
            ),
            rule % "images:local:delete": self.check_local_image_delete,
        }
        # Nova's admin-only defaults, and the reads whose target is the project in the URL.
        admin_rules = {r.name for r in policies.list_rules() if r.check_str == base_policies.ADMIN}
        admin_rules |= {rule % "os-quota-sets:show", rule % "os-quota-sets:detail"}
        self.assertEqual(set(checks), admin_rules)
        for name, check in checks.items():
            with self.subTest(rule=name):
                check()
        with self.subTest("a fault's details: is_admin, as Nova"):
            self.check_hidden(server, lambda s: "details" in s["fault"])

    # --- helpers of the admin checks -------------------------------------------------

    def make_error(self, server_id: str) -> None:
        """Put a server in ERROR on a host, with a fault that has details."""
        admin = nova_context.get_admin_context()
        instance = instance_db.instance_update(
            admin, server_id, {"vm_state": "error", "host": "h1"}
        )
        instance_db.instance_fault_create(
            admin, instance.id, {"code": 500, "message": "boom", "details": "trace"}
        )

    def check_all_tenants(self) -> None:
        # Other projects' servers, deleted servers (Nova's status=DELETED) and
        # the order of hosts are an admin's to list.
        for path in (
            "/v2.1/servers?all_tenants=1",
            "/v2.1/servers/detail?all_tenants=1",
            "/v2.1/servers/detail?status=DELETED",
            "/v2.1/servers?sort_key=host",
            "/v2.1/servers/detail?sort_key=node",
        ):
            response = self.request("GET", path, token=VICTIM)
            self.assertEqual(response.status_int, 403, response.text)
            self.assertIn("forbidden", response.json)
            self.assertEqual(self.request("GET", path, token="admin:admin").status_int, 200)

    def check_filters_dropped(self) -> None:
        # A user's admin filters are dropped (Nova 2.1): the listing is not filtered.
        own = self.request("GET", "/v2.1/servers", token=VICTIM).json["servers"]
        response = self.request("GET", "/v2.1/servers?host=no-such-host", token=VICTIM)
        self.assertEqual(response.json["servers"], own)
        self.assertTrue(own)
        response = self.request("GET", "/v2.1/servers?host=no-such-host", token="admin:admin")
        self.assertEqual(response.json["servers"], [])

    def check_zone_detail(self) -> None:
        path = "/v2.1/os-availability-zone/detail"
        response = self.request("GET", path, token=VICTIM)
        self.assertEqual(response.status_int, 403, response.text)
        self.assertIn("forbidden", response.json)
        self.assertEqual(self.request("GET", path, token="admin:admin").status_int, 200)

    def check_refused(self, method: str, path: str, body=None) -> None:
        """A user gets 403 and an admin passes the policy (a 2xx, or the request's own fault)."""
        before = self.snapshot()
        response = self.request(method, path, body, token=VICTIM)
        self.assertEqual(response.status_int, 403, response.text)
        self.assertEqual(response.json["forbidden"]["code"], 403)
        self.assertEqual(self.snapshot(), before)
        self.assertNotEqual(self.request(method, path, body, token="admin:admin").status_int, 403)

    def check_admin_only(self, method: str, path: str, body, status: int) -> None:
        response = self.request(method, path, body, token=VICTIM)
        self.assertEqual(response.status_int, 403, response.text)
        self.assertIn("forbidden", response.json)
        response = self.request(method, path, body, token="admin:admin")
        self.assertEqual(response.status_int, status, response.text)

    def check_own_or_admin(self, template: str) -> None:
        self.assertEqual(self.request("GET", template.format("demo"), token=VICTIM).status_int, 200)
        self.check_admin_only("GET", template.format("other"), None, 200)

    def check_local_image_delete(self) -> None:
        # The local image store's images are the cloud's: only admins delete them.
        store = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, store)
        for name, value in (("backend", "local"), ("local_store_path", store)):
            CONF.set_override(name, value, group="image")
            self.addCleanup(CONF.clear_override, name, group="image")
        self.app.compute_api.image._backend = None  # made again from the options above
        source = os.path.join(store, "source")
        with open(source, "wb") as handle:
            handle.write(b"bits")
        image_id = local_images.LocalImageStore(store).create("tiny", source)["id"]
        self.check_admin_only("DELETE", f"/v2.1/images/{image_id}", None, 204)
        self.assertEqual(self.request("GET", f"/v2.1/images/{image_id}").status_int, 404)

    def check_hidden(self, path: str, shows) -> None:
        self.assertFalse(shows(self.request("GET", path, token=VICTIM).json["server"]))
        self.assertTrue(shows(self.request("GET", path, token="admin:admin").json["server"]))


# Values that would break out of an attribute or element if pasted into XML.
HOSTILE = [
    "</source><evil/>",
    "\"'&<>",
    "&amp;&lt;&#60;&#x3c;&xxe;",
    "]]><evil/><![CDATA[",
    "<!DOCTYPE d [<!ENTITY xxe SYSTEM 'file:///etc/passwd'>]>",
]


class HostileInputTestCase(process_fixtures.CloudTestCase):
    """Hostile values and bodies against a real ``nova-all``."""

    def setUp(self) -> None:
        super().setUp()
        self.start_nova_all(self.nova_config())

    def test_port_configuration_cannot_inject_into_the_domain_xml(self):
        network = self.quantum_network()
        sockets = [f"/run/vhu/{value}" for value in HOSTILE]
        ports = [
            self.quantum_port(
                network,
                configuration={
                    "vif_type": "vhostuser",
                    "vhostuser_socket": path,
                    "unused_by_nova": "</interface></devices><evil/>",
                },
            )
            for path in sockets
        ]
        # One more, its configuration written in Quantum's XML format.
        xml_value = "/run/vhu/a<b>&c]]>'\""
        ports.append(self.quantum_port_from_xml(network, xml_value))
        sockets.append(xml_value)
        name = "</name><evil/>&amp;]]>"

        server_id = self.create_server(name=name, networks=[{"port": p} for p in ports])
        self.wait_status(server_id, "ACTIVE", timeout=120)

        path = os.path.join(self.state, "instances", server_id, "libvirt.xml")
        with open(path, encoding="utf-8") as handle:
            xml = handle.read()
        libvirt_schema.assert_valid(self, xml)
        root = etree.fromstring(xml.encode())
        self.assertEqual(root.xpath("//evil"), [])
        self.assertEqual(root.getroottree().docinfo.doctype, "")
        self.assertEqual(
            [i.find("source").get("path") for i in root.findall("./devices/interface")], sockets
        )
        self.assertIn(name, [element.text for element in root.iter()])
        self.assertEqual(self.server(server_id)["name"], name)

    def quantum_port_from_xml(self, network: str, socket_path: str) -> str:
        """Create a port whose configuration is given in an XML body; return its id."""
        port = etree.Element("port", nsmap={None: "http://openstack.org/quantum/api/v1.1"})
        configuration = etree.SubElement(port, "configuration")
        for key, value in (("vif_type", "vhostuser"), ("vhostuser_socket", socket_path)):
            etree.SubElement(configuration, "conf", key=key).text = value
        response = self.session.post(
            f"{self.quantum_url}/v1.1/tenants/demo/networks/{network}/ports.json",
            data=etree.tostring(port),
            headers={"X-Auth-Token": "admin:admin", "Content-Type": "application/xml"},
            timeout=30,
        )
        self.assertEqual(response.status_code, 202, response.text)
        port_id = response.json()["port"]["id"]
        detail = self.quantum("GET", f"/networks/{network}/ports/{port_id}/detail")
        self.assertEqual(detail["port"]["configuration"]["vhostuser_socket"], socket_path)
        return port_id

    def test_bodies_over_1_mib_are_413_unparsed_on_nova_and_quantum(self):
        # Not JSON: a parsed body would be a 400; 413 shows it was not parsed.
        big = b"{" + b"x" * (2 * ONE_MIB)
        nova_port = self.api_port
        quantum_port = int(self.quantum_url.rsplit(":", 1)[1])
        targets = [
            (nova_port, "/v2.1/servers", "overLimit"),
            (quantum_port, "/v1.1/tenants/demo/networks", "overLimit"),
        ]
        cases = {
            "honest Content-Length": (f"Content-Length: {len(big)}", [big]),
            "Content-Length larger than the body": (f"Content-Length: {len(big)}", [b"{}"]),
            "chunked, no Content-Length": ("Transfer-Encoding: chunked", list(chunked(big))),
        }
        for port, path, fault in targets:
            for case, (header, parts) in cases.items():
                with self.subTest(path=path, case=case):
                    status, body = raw_post(port, path, header, parts)
                    self.assertEqual(status, 413, body[:300])
                    self.assertIn(fault, json.loads(body))
            # A small chunked body is read and parsed (here: refused by the schema).
            status, _ = raw_post(port, path, "Transfer-Encoding: chunked", list(chunked(b"{}")))
            self.assertEqual(status, 400)
        self.assertEqual(self.rows("SELECT COUNT(*) AS n FROM instances")[0].n, 0)
        self.assertEqual(self.quantum("GET", "/networks"), {"networks": []})
        # Both services still serve.
        self.http("GET", f"{self.api}/servers", token=USER, expect=200)


def chunked(data: bytes, size: int = 64 * 1024):
    """Yield ``data`` in HTTP/1.1 chunked encoding."""
    for start in range(0, len(data), size):
        part = data[start : start + size]
        yield f"{len(part):x}\r\n".encode() + part + b"\r\n"
    yield b"0\r\n\r\n"


def raw_post(port: int, path: str, header: str, parts: list[bytes]) -> tuple[int, bytes]:
    """POST ``parts`` as written, with one framing ``header``; return status and body.

    The server may answer (and close) before the body is sent: a failed send
    is not an error, the answer is what counts.
    """
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Auth-Token: {USER}\r\n"
            f"Content-Type: application/json\r\n{header}\r\n\r\n"
        )
        connection.sendall(head.encode())
        try:
            for part in parts:
                connection.sendall(part)
        except (BrokenPipeError, ConnectionResetError):
            pass
        received = b""
        deadline = time.monotonic() + 30
        while b"\r\n\r\n" not in received and time.monotonic() < deadline:
            chunk = connection.recv(65536)
            if not chunk:
                break
            received += chunk
        head_part, _, body = received.partition(b"\r\n\r\n")
        length = next(
            (
                int(line.split(b":", 1)[1])
                for line in head_part.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            ),
            0,
        )
        while len(body) < length:
            chunk = connection.recv(65536)
            if not chunk:
                break
            body += chunk
        status = int(head_part.split(b" ", 2)[1])
        return status, body
