"""Every bad input is a 4xx with a fault body, end to end (issue 14, items 6 and 7).

One real ``nova-all`` (with its embedded Quantum service on its own port)
gets each input the adversarial run found answered 500, accepted, or
logged nothing, through real sockets: undecodable and NUL characters in
paths and queries, lone surrogates, deep nesting and non-UTF-8 JSON, tokens
without a user or with ids longer than the columns, control characters in
Quantum names, XML ``<conf>`` without a key. Each answer is a 4xx with the
service's fault body, it is in the access log, and nothing is written. The
compute API's links name ``[api] public_endpoint``, whatever Host or
X-Forwarded-Host the client sends.
"""

from __future__ import annotations

import json

from tests.fixtures import processes as process_fixtures
from tests.fixtures.processes import USER

PUBLIC = "https://cloud.example/compute"
SERVER = {"name": "vm", "imageRef": "cirros", "flavorRef": "1", "networks": "none"}


class BadInputTestCase(process_fixtures.CloudTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.start_nova_all(self.nova_config(extra=f"[api]\npublic_endpoint = {PUBLIC}\n"))
        self.nets = f"{self.quantum_url}/v1.1/tenants/demo/networks"

    def send(self, method: str, url: str, body: bytes | None = None, token: str = USER, **headers):
        headers = {"X-Auth-Token": token, "Content-Type": "application/json", **headers}
        return self.session.request(method, url, data=body, headers=headers, timeout=30)

    def assert_fault(self, response, code: int, name: str) -> None:
        self.assertEqual(response.status_code, code, response.text[:500])
        fault = response.json()[name]
        self.assertEqual(fault["code"], code)
        self.assertTrue(fault["message"])

    def counts(self) -> tuple[int, int]:
        servers = len(self.rows("SELECT id FROM instances"))
        networks = len(self.quantum("GET", "/networks")["networks"])
        return servers, networks

    def test_bad_input_is_4xx_on_nova_and_quantum(self):
        before = self.counts()
        server = json.dumps({"server": SERVER})
        deep = b"[" * 10000 + b"]" * 10000
        nova = [
            ("GET", "/servers/%ff", None, USER, 400),
            ("GET", "/servers?name=%ff", None, USER, 400),
            ("GET", "/servers/%00", None, USER, 400),
            ("GET", "/servers?marker=%00", None, USER, 400),
            ("GET", "/servers?name=a%00", None, USER, 400),
            ("POST", "/servers", b'{"server": {"name": "\\ud800"}}', USER, 400),
            ("POST", "/servers", deep, USER, 400),
            ("POST", "/servers", server.encode("utf-16"), USER, 400),
            ("POST", "/servers", b"\xef\xbb\xbf" + server.encode(), USER, 400),
            ("POST", "/servers", server.encode(), "u" * 256 + ":demo", 401),
            ("POST", "/servers", server.encode(), "alice:" + "p" * 256, 401),
        ]
        for method, path, body, token, code in nova:
            with self.subTest(service="nova", path=path, body=(body or b"")[:30], token=token[:9]):
                response = self.send(method, self.api + path, body, token)
                self.assert_fault(response, code, {400: "badRequest", 401: "unauthorized"}[code])

        xml_conf = (
            b'<network xmlns="http://openstack.org/quantum/api/v1.1" name="n">'
            b"<configuration><conf>v</conf></configuration></network>"
        )
        quantum = [
            ("GET", "/%ff", None, USER, {}, 400),
            ("GET", "?name=%ff", None, USER, {}, 400),
            ("POST", "", b'{"network": {"name": "\\ud800"}}', USER, {}, 400),
            ("POST", "", deep, USER, {}, 400),
            ("POST", "", '{"network": {"name": "n"}}'.encode("utf-16"), USER, {}, 400),
            ("POST", "", b'\xef\xbb\xbf{"network": {"name": "n"}}', USER, {}, 400),
            ("POST", "", b'{"network": {"name": "a\\u0001b"}}', USER, {}, 400),
            ("POST", "", xml_conf, "admin:demo", {"Content-Type": "application/xml"}, 400),
            ("GET", "", None, ":demo", {}, 401),
            ("POST", "", b'{"network": {"name": "n"}}', ":demo", {}, 401),
        ]
        for method, suffix, body, token, headers, code in quantum:
            with self.subTest(service="quantum", suffix=suffix, body=(body or b"")[:30]):
                response = self.send(method, self.nets + suffix, body, token, **headers)
                name = {400: "malformedRequestBody", 401: "unauthorized"}[code]
                self.assert_fault(response, code, name)

        self.assertEqual(self.counts(), before)
        # The tenant's XML listing still works, and so does everything else.
        listing = self.send("GET", self.nets + "/detail.xml")
        self.assertEqual(listing.status_code, 200, listing.text[:300])
        self.http("GET", f"{self.api}/servers", expect=200)
        # The undecodable URL is in the access log, quoted.
        self.assertTrue(self.nova_all.log_lines('"GET /v2.1/servers/%FF" status: 400'))

    def test_links_name_the_public_endpoint(self):
        server_id = self.create_server(networks="none", launch=False)
        response = self.send(
            "GET",
            f"{self.api}/servers/{server_id}",
            Host="evil.example",
            **{"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "http"},
        )
        self.assertEqual(response.status_code, 200, response.text[:300])
        links = [link["href"] for link in response.json()["server"]["links"]]
        self.assertEqual(
            links, [f"{PUBLIC}/v2.1/servers/{server_id}", f"{PUBLIC}/servers/{server_id}"]
        )
