"""Bad input to Quantum is a 4xx with its own fault body and writes nothing (issue 14, item 6).

``tests/integration/test_bad_input.py`` runs the same cases on PostgreSQL
and MariaDB.
"""

from __future__ import annotations

import json

from quantum import server
from quantum.api import router
from quantum.db import models
from tests.fixtures import clients
from tests.fixtures import quantum as quantum_fixtures

NETS = "/v1.1/tenants/t1/networks"
XMLNS = "http://openstack.org/quantum/api/v1.1"


class BadInputTestCase(quantum_fixtures.QuantumTestCase):
    def assert_fault(self, response, code: int, name: str, words: str = "") -> None:
        self.assertEqual(response.status_int, code, response.text)
        fault = response.json[name]
        self.assertEqual(fault["code"], code)
        self.assertIn(words, fault["message"])

    def assert_refused(self, method: str, path: str, body, code=400, words="", **kwargs) -> None:
        networks, ports = self.count_rows("networks"), self.count_rows("ports")
        response = self.request(method, path, body, **kwargs)
        name = {400: "malformedRequestBody", 401: "unauthorized"}[code]
        self.assert_fault(response, code, name, words)
        self.assertEqual((self.count_rows("networks"), self.count_rows("ports")), (networks, ports))

    # --- the URL -----------------------------------------------------------------------

    def test_invalid_utf8_or_nul_in_the_url_is_400(self):
        net_id = self.create_network()
        for path in (
            f"{NETS}/%ff",
            f"{NETS}?name=%ff",
            "/v1.1/tenants/%ff/networks",
            f"{NETS}/%ed%a0%80.json",
            f"{NETS}/%00",
            f"{NETS}/{net_id}/ports?attachment=%00",
            "/v1.1/tenants/t%01/networks",
        ):
            with self.subTest(path=path):
                self.assert_fault(self.request("GET", path), 400, "malformedRequestBody", "URL")
        # In XML when XML is asked for.
        response = self.request("GET", f"{NETS}/%ff.xml")
        self.assertEqual(response.status_int, 400)
        self.assertIn(b"<malformedRequestBody", response.body)

    def test_an_admin_url_naming_an_over_long_tenant_is_400(self):
        tenant = "t" * 256
        path = f"/v1.1/tenants/{tenant}/networks"
        self.assert_refused("POST", path, {"network": {"name": "n"}}, token="admin:admin")

    # --- the token ---------------------------------------------------------------------

    def test_tokens_without_a_user_or_with_unstorable_ids_are_401(self):
        for token, tenant in (
            (":victim", "victim"),
            ("u:" + "t" * 256, "t" * 256),
            ("u" * 256, "t1"),
        ):
            with self.subTest(token=token[:20]):
                path = f"/v1.1/tenants/{tenant}/networks"
                self.assert_refused("POST", path, {"network": {"name": "n"}}, 401, token=token)
                self.assert_fault(self.request("GET", path, token=token), 401, "unauthorized")

    # --- the body ----------------------------------------------------------------------

    def test_json_not_utf8_deep_or_with_surrogates_or_nul_is_400(self):
        text = json.dumps({"network": {"name": "n"}})
        deep = '{"network": {"name": "n", "configuration": {"k": ' + "[" * 100 + "]" * 100 + "}}}"
        for label, raw in (
            ("UTF-16", text.encode("utf-16")),
            ("BOM", b"\xef\xbb\xbf" + text.encode()),
            ("surrogate", b'{"network": {"name": "\\udc00"}}'),
            ("10,000 deep", b"[" * 10000 + b"]" * 10000),
            ("100 deep", deep.encode()),
            ("NUL", b'{"network": {"name": "a\\u0000"}}'),
        ):
            with self.subTest(label):
                self.assert_refused("POST", NETS, raw, words="body refused")

    def test_control_characters_in_names_are_400_and_xml_listings_work(self):
        for name in ("a\x01b", "tab\there", "new\nline", "del\x7f", "\ufffe"):
            with self.subTest(name=name):
                self.assert_refused("POST", NETS, {"network": {"name": name}}, words="name")
        net_id = self.create_network(name="fine")
        self.assert_refused("PUT", f"{NETS}/{net_id}", {"network": {"name": "x\x1f"}})
        port_id = self.create_port(net_id)
        attachment = f"{NETS}/{net_id}/ports/{port_id}/attachment"
        self.assert_refused("PUT", attachment, {"attachment": {"id": "vif\x02"}})
        listing = self.request("GET", f"{NETS}/detail.xml")
        self.assertEqual(listing.status_int, 200, listing.text)
        self.assertIn(b'name="fine"', listing.body)

    def test_configuration_values_xml_cannot_carry_are_400(self):
        for value in ("a\x01", "\x00", "\uffff"):
            with self.subTest(value=value):
                body = {"network": {"name": "n", "configuration": {"k": value}}}
                self.assert_refused("POST", NETS, body, token="admin:t1")
        # Tab, newline and carriage return are text XML carries.
        body = {"network": {"name": "n", "configuration": {"k": "a\tb\nc"}}}
        self.assertEqual(self.request("POST", NETS, body, token="admin:t1").status_int, 202)

    def test_xml_conf_without_key_is_400(self):
        body = (
            f'<network xmlns="{XMLNS}" name="n"><configuration><conf>v</conf>'
            "</configuration></network>"
        ).encode()
        self.assert_refused(
            "POST", NETS, body, token="admin:t1", content_type="application/xml", words="key"
        )

    def test_over_long_strings_are_400(self):
        for body in (
            {"network": {"name": "n" * 256}},
            {"network": {"name": "n", "configuration": {"k": "v" * 1025}}},
            {"network": {"name": "n", "configuration": {"k" * 256: "v"}}},
        ):
            with self.subTest(body=str(body)[:40]):
                self.assert_refused("POST", NETS, body, token="admin:t1")

    def test_longest_strings_fit_their_columns(self):
        name = "n" * 254 + "\N{GRINNING FACE}"  # four bytes in UTF-8 (MySQL: utf8mb4)
        body = {"network": {"name": name, "configuration": {"k" * 255: "v" * 1024}}}
        tenant = "t" * 255
        response = self.request(
            "POST", f"/v1.1/tenants/{tenant}/networks", body, token=f"admin:{tenant}"
        )
        self.assertEqual(response.status_int, 202, response.text)
        net_id = response.json["network"]["id"]
        port = self.request(
            "POST", f"/v1.1/tenants/{tenant}/networks/{net_id}/ports", None, token=f"u:{tenant}"
        )
        self.assertEqual(port.status_int, 202, port.text)
        path = f"/v1.1/tenants/{tenant}/networks/{net_id}/ports/{port.json['port']['id']}"
        attached = self.request(
            "PUT", path + "/attachment", {"attachment": {"id": "a" * 255}}, token=f"u:{tenant}"
        )
        self.assertEqual(attached.status_int, 204, attached.text)

    def test_lengths_are_the_columns(self):
        self.assertEqual(models.Network.__table__.c.tenant_id.type.length, router.ID_MAX_LENGTH)
        self.assertEqual(models.Network.__table__.c.name.type.length, 255)
        self.assertEqual(models.Port.__table__.c.interface_id.type.length, 255)


class LinksTestCase(quantum_fixtures.QuantumTestCase):
    """The version document's links: ``public_endpoint``, else the request's host (item 7)."""

    def href(self, app, **headers) -> str:
        response = clients.wsgi_request(app, "GET", "/", headers=headers)
        return response.json["versions"][0]["links"][0]["href"]

    def test_request_host_public_endpoint_and_trusted_proxy(self):
        forwarded = {
            "Host": "10.0.0.5:9696",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "net.example",
        }
        self.assertEqual(self.href(self.app, **forwarded), "http://10.0.0.5:9696/v1.1")
        self.conf.set_override("enable_proxy_headers_parsing", True, group="oslo_middleware")
        proxied = server.build_app(self.conf)
        self.addCleanup(proxied.application.db.engine.dispose)
        self.assertEqual(self.href(proxied, **forwarded), "https://net.example/v1.1")
        self.conf.set_override("public_endpoint", "https://quantum.example/")
        public = server.build_app(self.conf)
        self.addCleanup(public.application.db.engine.dispose)
        self.assertEqual(self.href(public, **forwarded), "https://quantum.example/v1.1")
