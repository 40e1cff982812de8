"""Bad input is a 4xx with Nova's fault body and writes nothing (issue 14, item 6).

Each case is one the adversarial run found answered 500 (or accepted) on
some backend; ``tests/integration/test_bad_input.py`` runs the same cases on
PostgreSQL and MariaDB.
"""

from __future__ import annotations

import json

from nova.api.openstack import auth
from nova.db import models
from tests.fixtures import api as api_fixtures
from tests.fixtures import clients

SERVER = {"name": "vm", "imageRef": "cirros", "flavorRef": "1", "networks": "none"}


def nested(depth: int) -> bytes:
    """Return a server create body whose metadata value is ``depth`` arrays deep."""
    value = "[" * depth + "]" * depth
    return b'{"server": {"name": "x", "imageRef": "c", "flavorRef": "1", "metadata": {"k": ' + (
        value.encode() + b"}}}"
    )


class BadInputTestCase(api_fixtures.APITestCase):
    def call(self, method: str, path: str, body=None, token: str = "alice:demo", **kwargs):
        return clients.wsgi_request(self.app, method, path, body, token, **kwargs)

    def assert_fault(self, response, code: int, name: str, words: str = "") -> None:
        self.assertEqual(response.status_int, code, response.text)
        fault = response.json[name]
        self.assertEqual(fault["code"], code)
        self.assertIn(words, fault["message"])

    def assert_create_refused(self, body: bytes, code: int = 400, words: str = "", **kwargs):
        response = self.call("POST", "/v2.1/servers", body, **kwargs)
        self.assert_fault(response, code, "badRequest" if code == 400 else "unauthorized", words)
        self.assertEqual(self.count("instances", live=False), 0)

    # --- the URL -----------------------------------------------------------------------

    def test_invalid_utf8_in_path_or_query_is_400(self):
        for path in (
            "/v2.1/servers/%ff",
            "/v2.1/servers?name=%ff",
            "/v2.1/servers/%ed%a0%80",  # an encoded lone surrogate is not UTF-8
            "/v2.1/%ff/servers",
            "/v2.1/servers?%ff=1",
        ):
            with self.subTest(path=path):
                response = self.call("GET", path)
                self.assert_fault(response, 400, "badRequest", "Malformed request URL")

    def test_nul_in_path_or_query_is_400(self):
        self.create_server()
        for path in (
            "/v2.1/servers/%00",
            "/v2.1/servers/a%00b/os-virtual-interfaces",
            "/v2.1/servers?marker=%00",
            "/v2.1/servers/detail?name=a%00",
            "/v2.1/flavors/%00",
        ):
            with self.subTest(path=path):
                self.assert_fault(self.call("GET", path), 400, "badRequest", "Malformed")

    def test_utf8_in_query_is_served(self):
        self.create_server(name="ünïcode")
        response = self.call("GET", "/v2.1/servers?name=%C3%BCn")
        self.assertEqual(response.status_int, 200, response.text)
        self.assertEqual([s["name"] for s in response.json["servers"]], ["ünïcode"])

    def test_over_long_query_values_are_400(self):
        self.assert_fault(self.call("GET", "/v2.1/servers?marker=" + "m" * 256), 400, "badRequest")

    # --- the body ----------------------------------------------------------------------

    def test_lone_surrogate_is_400(self):
        self.assert_create_refused(
            b'{"server": {"name": "\\ud800", "imageRef": "c", "flavorRef": "1"}}',
            words="not JSON in UTF-8",
        )

    def test_nul_anywhere_in_the_body_is_400(self):
        for key, value in (("metadata", {"k": "a\x00"}), ("metadata", {"a\x00": "v"})):
            with self.subTest(key=key, value=value):
                body = json.dumps({"server": {**SERVER, key: value}}).encode()
                self.assert_create_refused(body, words="NUL")
        body = json.dumps({"server": {**SERVER, "imageRef": "c\x00"}}).encode()
        self.assert_create_refused(body)

    def test_deep_nesting_is_400(self):
        self.assert_create_refused(nested(10000))
        self.assert_create_refused(nested(200), words="nested deeper than 32")
        # A body as deep as any real one is judged by its schema, as ever.
        self.assert_create_refused(nested(3), words="Invalid input")

    def test_json_that_is_not_utf8_is_400(self):
        text = json.dumps({"server": SERVER})
        for label, raw in (
            ("UTF-16", text.encode("utf-16")),
            ("UTF-16-LE", text.encode("utf-16-le")),
            ("BOM", b"\xef\xbb\xbf" + text.encode()),
            (
                "latin-1",
                json.dumps({"server": {**SERVER, "name": "é"}}, ensure_ascii=False).encode(
                    "latin-1"
                ),
            ),
        ):
            with self.subTest(label):
                self.assert_create_refused(raw, words="Malformed request body")
        # The same body in UTF-8 is a server.
        self.create_server(**{k: v for k, v in SERVER.items() if k != "name"})

    def test_over_long_strings_are_400(self):
        for values in (
            {"name": "n" * 256},
            {"imageRef": "i" * 256},
            {"metadata": {"k": "v" * 256}},
            {"metadata": {"k" * 256: "v"}},
        ):
            with self.subTest(values=list(values)):
                body = json.dumps({"server": {**SERVER, **values}}).encode()
                self.assert_create_refused(body, words="Invalid input")

    def test_longest_strings_fit_their_columns(self):
        server_id = self.create_server(
            name="n" * 254 + "\N{GRINNING FACE}",  # four bytes in UTF-8 (MySQL: utf8mb4)
            imageRef="i" * 255,
            metadata={"k" * 255: "v" * 255},
            networks="none",
            token=f"{'u' * 255}:{'p' * 255}",
        )
        shown = self.call("GET", f"/v2.1/servers/{server_id}", token=f"{'u' * 255}:{'p' * 255}")
        self.assertEqual(shown.status_int, 200, shown.text)
        self.assertEqual(shown.json["server"]["user_id"], "u" * 255)

    # --- the token ---------------------------------------------------------------------

    def test_tokens_whose_ids_cannot_be_stored_are_401(self):
        body = json.dumps({"server": SERVER}).encode()
        for token in ("u" * 256 + ":demo", "alice:" + "p" * 256, "u" * 256, ":victim", "a\x01:b"):
            with self.subTest(token=token[:20]):
                self.assert_create_refused(body, 401, token=token)

    def test_id_lengths_are_the_columns(self):
        for column in ("user_id", "project_id"):
            self.assertEqual(models.Instance.__table__.c[column].type.length, auth.ID_MAX_LENGTH)


class LinksTestCase(api_fixtures.APITestCase):
    """Links name ``[api] public_endpoint``, else the request's host (item 7)."""

    def links(self, app=None, **headers) -> list[str]:
        response = clients.wsgi_request(
            app or self.app, "GET", "/v2.1/servers/detail", token="alice:demo", headers=headers
        )
        self.assertEqual(response.status_int, 200, response.text)
        (server,) = response.json["servers"]
        return [link["href"] for link in server["links"]]

    def override(self, name: str, value, group: str) -> None:
        api_fixtures.CONF.set_override(name, value, group=group)
        self.addCleanup(api_fixtures.CONF.clear_override, name, group=group)

    def test_the_request_host_without_a_public_endpoint(self):
        server_id = self.create_server(networks="none")
        self.assertEqual(
            self.links(Host="api.example:8774"),
            [
                f"http://api.example:8774/v2.1/servers/{server_id}",
                f"http://api.example:8774/servers/{server_id}",
            ],
        )

    def test_public_endpoint_wins_over_any_host(self):
        self.override("public_endpoint", "https://cloud.example/compute/", "api")
        from nova.api.openstack import router

        app = router.build_app()
        server_id = self.create_server(networks="none")
        self.assertEqual(
            self.links(app, Host="evil.example", X_Forwarded_Host="evil.example"),
            [
                f"https://cloud.example/compute/v2.1/servers/{server_id}",
                f"https://cloud.example/compute/servers/{server_id}",
            ],
        )
        version = clients.wsgi_request(app, "GET", "/v2.1", headers={"Host": "evil.example"})
        self.assertIn("https://cloud.example/compute/v2.1/", version.text)

    def test_forwarded_headers_only_from_a_trusted_proxy(self):
        from nova.api.openstack import router

        server_id = self.create_server(networks="none")
        forwarded = {
            "Host": "10.0.0.5:8774",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "cloud.example",
        }
        # Not trusted (the default): ignored.
        self.assertEqual(
            self.links(router.build_app(), **forwarded)[0],
            f"http://10.0.0.5:8774/v2.1/servers/{server_id}",
        )
        self.override("enable_proxy_headers_parsing", True, "oslo_middleware")
        self.assertEqual(
            self.links(router.build_app(), **forwarded)[0],
            f"https://cloud.example/v2.1/servers/{server_id}",
        )
