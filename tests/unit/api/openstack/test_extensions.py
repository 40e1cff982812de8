"""Extension loading, GET /extensions, and the three shipped extensions."""

from __future__ import annotations

import os
import shutil
import tempfile
import textwrap
import unittest
import uuid

import api_extensions
import nova.conf
from nova import context as nova_context
from nova.api.openstack import extensions
from nova.api.openstack import router
from nova.db import networks as legacy_db
from tests.fixtures import api as api_fixtures

CONF = nova.conf.CONF

GOOD = """
from nova.api.openstack import extensions


class Hello(extensions.ExtensionDescriptor):
    name = "Hello"
    alias = "os-hello"
    namespace = "http://example.com/hello"
    updated = "2011-01-01T00:00:00+00:00"
    description = "Says hello."

    def get_server_create_schema(self):
        return {"greeting": {"type": "string", "maxLength": 10}}

    def extend_server_view(self, request, instance, view):
        view["hello"] = "world"
"""


def extension_dir(test: unittest.TestCase, files: dict[str, str]) -> str:
    directory = tempfile.mkdtemp(prefix="nova-ext-")
    test.addCleanup(shutil.rmtree, directory, ignore_errors=True)
    for name, text in files.items():
        with open(os.path.join(directory, name), "w", encoding="utf-8") as handle:
            handle.write(textwrap.dedent(text))
    return directory


class LoadingTestCase(unittest.TestCase):
    def test_good_extension_loads_and_private_files_are_skipped(self):
        directory = extension_dir(
            self, {"hello.py": GOOD, "_helpers.py": "raise RuntimeError('not loaded')"}
        )
        manager = extensions.ExtensionManager([directory])
        self.assertEqual(list(manager.extensions), ["os-hello"])
        self.assertIn("greeting", manager.server_create_schema())

    def test_broken_extension_stops_start_up_naming_the_file(self):
        directory = extension_dir(self, {"broken.py": "import no_such_module\n"})
        with self.assertRaisesRegex(extensions.ExtensionLoadError, "broken.py.*no_such_module"):
            extensions.ExtensionManager([directory])

    def test_duplicate_alias_stops_start_up_naming_both_files(self):
        directory = extension_dir(self, {"a_hello.py": GOOD, "b_hello.py": GOOD})
        with self.assertRaisesRegex(
            extensions.ExtensionLoadError, "b_hello.py.*'os-hello'.*a_hello.py"
        ):
            extensions.ExtensionManager([directory])

    def test_file_without_descriptor_or_alias(self):
        directory = extension_dir(self, {"empty.py": "X = 1\n"})
        with self.assertRaisesRegex(extensions.ExtensionLoadError, "no ExtensionDescriptor"):
            extensions.ExtensionManager([directory])
        nameless = GOOD.replace('alias = "os-hello"', 'alias = ""')
        directory = extension_dir(self, {"nameless.py": nameless})
        with self.assertRaisesRegex(extensions.ExtensionLoadError, "name and an alias"):
            extensions.ExtensionManager([directory])

    def test_missing_directory(self):
        with self.assertRaisesRegex(extensions.ExtensionLoadError, "not a directory"):
            extensions.ExtensionManager(["/nonexistent/extensions"])

    def test_no_path_configured_means_the_shipped_extensions(self):
        shipped = os.path.dirname(os.path.abspath(api_extensions.__file__))
        self.assertEqual(CONF.api.extensions_path, [])
        self.assertEqual(extensions.configured_paths([]), [shipped])
        self.assertEqual(extensions.configured_paths(["/x", shipped]), ["/x", shipped])


class ExtensionListTestCase(api_fixtures.APITestCase):
    def test_list_and_show(self):
        listed = self.request("GET", "/v2.1/extensions").json["extensions"]
        aliases = {e["alias"] for e in listed}
        self.assertLessEqual(
            {"os-virtual-interfaces", "os-server-networks", "os-server-launch"}, aliases
        )
        for entry in listed:
            self.assertEqual(
                set(entry), {"name", "alias", "namespace", "updated", "description", "links"}
            )
        shown = self.request("GET", "/v2.1/extensions/os-virtual-interfaces").json["extension"]
        self.assertEqual(
            (shown["name"], shown["namespace"], shown["updated"]),
            (
                "VirtualInterfaces",
                "http://docs.openstack.org/ext/virtual_interfaces/api/v1.1",
                "2011-08-17T00:00:00Z",
            ),
        )
        self.assertEqual(self.request("GET", "/v2.1/extensions/os-nope").status_int, 404)

    def test_an_extension_adds_create_keys_and_view_keys(self):
        directory = extension_dir(self, {"hello.py": GOOD})
        CONF.set_override("extensions_path", [directory, extensions.shipped_path()], group="api")
        self.addCleanup(CONF.clear_override, "extensions_path", group="api")
        self.app = router.APIRouter()
        server_id = self.create_server(greeting="hi")
        self.assertEqual(
            self.request("GET", f"/v2.1/servers/{server_id}").json["server"]["hello"], "world"
        )
        self.create_server(greeting="x" * 11, expect=400)


class VirtualInterfacesTestCase(api_fixtures.APITestCase):
    def vifs(self, server_id, query="", token="alice:demo"):
        return self.request(
            "GET", f"/v2.1/servers/{server_id}/os-virtual-interfaces{query}", token=token
        )

    def test_list_page_and_show(self):
        networks = [self.quantum_network(name=f"n{i}") for i in range(3)]
        server_id = self.create_server(networks=[{"uuid": n} for n in networks], launch=False)
        listed = self.vifs(server_id).json["virtual_interfaces"]
        self.assertEqual([v["OS-EXT-VIF-NET:net_id"] for v in listed], networks)
        for vif in listed:
            self.assertEqual(set(vif), {"id", "mac_address", "OS-EXT-VIF-NET:net_id", "links"})
            self.assertRegex(vif["mac_address"], r"^fa:16:3e(:[0-9a-f]{2}){3}$")
            self.assertEqual(
                vif["links"][0]["href"],
                f"http://localhost/v2.1/servers/{server_id}/os-virtual-interfaces/{vif['id']}",
            )
        self.assertEqual(
            self.vifs(server_id, "?limit=1&offset=1").json["virtual_interfaces"], listed[1:2]
        )
        self.assertEqual(self.vifs(server_id, "?offset=5").json["virtual_interfaces"], [])
        self.assertEqual(self.vifs(server_id, "?limit=x").status_int, 400)
        one = self.request(
            "GET", f"/v2.1/servers/{server_id}/os-virtual-interfaces/{listed[2]['id']}"
        )
        self.assertEqual(one.json["virtual_interface"], listed[2])

    def test_unknown_server_or_vif(self):
        self.assertEqual(self.vifs(str(uuid.uuid4())).status_int, 404)
        server_id = self.create_server(networks="none", launch=False)
        self.assertEqual(self.vifs(server_id).json["virtual_interfaces"], [])
        missing = self.request(
            "GET", f"/v2.1/servers/{server_id}/os-virtual-interfaces/{uuid.uuid4()}"
        )
        self.assertEqual(missing.status_int, 404)
        other_server = self.create_server(networks=[{"uuid": self.quantum_network()}], launch=False)
        foreign_vif = self.vifs(other_server).json["virtual_interfaces"][0]["id"]
        crossed = self.request(
            "GET", f"/v2.1/servers/{server_id}/os-virtual-interfaces/{foreign_vif}"
        )
        self.assertEqual(crossed.status_int, 404)

    def test_legacy_vif_net_id_is_the_nova_network(self):
        CONF.set_override("backend", "legacy", group="network")
        self.app = router.APIRouter()
        network = legacy_db.network_create_with_fixed_ips(
            nova_context.get_admin_context(),
            {"label": "private", "cidr": "10.0.0.0/28", "bridge": "br100"},
        )
        server_id = self.create_server(launch=False)
        (vif,) = self.vifs(server_id).json["virtual_interfaces"]
        self.assertEqual(vif["OS-EXT-VIF-NET:net_id"], network.uuid)
        addresses = self.request("GET", f"/v2.1/servers/{server_id}").json["server"]["addresses"]
        self.assertEqual(list(addresses), ["private"])
        self.assertEqual(addresses["private"][0]["OS-EXT-IPS-MAC:mac_addr"], vif["mac_address"])


class NetworksOnCreateTestCase(api_fixtures.APITestCase):
    def test_port_and_network_entries_in_order(self):
        net_a, net_b = self.quantum_network(name="a"), self.quantum_network(name="b")
        port = self.quantum_port(net_b)
        server_id = self.create_server(networks=[{"uuid": net_a}, {"port": port}], launch=False)
        vifs = self.request("GET", f"/v2.1/servers/{server_id}/os-virtual-interfaces").json[
            "virtual_interfaces"
        ]
        self.assertEqual([v["OS-EXT-VIF-NET:net_id"] for v in vifs], [net_a, net_b])
        self.assertEqual(self.attachment(net_b, port), {"id": vifs[1]["id"]})

    def test_none_auto_and_absent(self):
        nets = [self.quantum_network(name=f"n{i}") for i in range(2)]

        def vif_count(**values):
            server_id = self.create_server(launch=False, **values)
            return len(
                self.request("GET", f"/v2.1/servers/{server_id}/os-virtual-interfaces").json[
                    "virtual_interfaces"
                ]
            )

        self.assertEqual(vif_count(networks="none"), 0)
        self.assertEqual(vif_count(networks="auto"), len(nets))
        self.assertEqual(vif_count(), len(nets))

    def test_rejected_requests_leave_nothing_behind(self):
        net = self.quantum_network()
        free = self.quantum_port(net)
        attached = self.quantum_port(net)
        self.quantum_call(
            "PUT", f"/networks/{net}/ports/{attached}/attachment", {"attachment": {"id": "other"}}
        )
        foreign = self.quantum_port(self.quantum_network(tenant="other"), tenant="other")
        cases = [
            ({"networks": [{"port": free}, {"port": free}]}, 400),
            ({"networks": [{"uuid": net}, {"uuid": net}]}, 400),
            ({"networks": [{"port": free}], "max_count": 2}, 400),
            ({"networks": [{"port": foreign}]}, 400),
            ({"networks": [{"port": str(uuid.uuid4())}]}, 400),
            ({"networks": [{"uuid": str(uuid.uuid4())}]}, 400),
            ({"networks": [{"uuid": net}, {"port": attached}]}, 409),
        ]
        for values, status in cases:
            with self.subTest(values=values):
                response = self.create_server(expect=status, **values)
                self.assertEqual(response.status_int, status, response.text)
        self.assertEqual(self.count("instances"), 0)
        self.assertEqual(self.count("virtual_interfaces"), 0)
        self.assertEqual(sorted(self.quantum_ports(net)), sorted([free, attached]))
        self.assertEqual(self.attachment(net, free), {})
        self.assertEqual(self.attachment(net, attached), {"id": "other"})
