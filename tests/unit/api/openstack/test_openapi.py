"""The OpenAPI description at /v2.1/openapi.json: valid, complete, and true to the routes."""

from __future__ import annotations

import re

import jsonschema
import openapi_spec_validator

import nova.conf
from nova.api.openstack import extensions
from nova.api.openstack import openapi
from nova.api.openstack import router
from nova.api.openstack.schemas import admin_actions as admin_actions_schema
from nova.api.openstack.schemas import console_output as console_output_schema
from nova.api.openstack.schemas import servers as servers_schema
from tests.fixtures import api as api_fixtures
from tests.unit.api.openstack import test_extensions

CONF = nova.conf.CONF

METHODS = ("GET", "PUT", "POST", "DELETE", "PATCH")
# The router's own 404, as opposed to a controller's "no such server".
NO_ROUTE = "The resource could not be found."


def operations(document: dict) -> set[tuple[str, str]]:
    """Return ``{(path, METHOD)}`` of a description."""
    return {(path, method.upper()) for path, item in document["paths"].items() for method in item}


class OpenAPITestCase(api_fixtures.APITestCase):
    def setUp(self) -> None:
        super().setUp()
        response = self.request("GET", openapi.PATH, token=None)
        self.assertEqual(response.status_int, 200, response.text)
        self.document = response.json

    def test_is_a_valid_openapi_3_1_document(self):
        self.assertEqual(self.document["openapi"], "3.1.0")
        openapi_spec_validator.validate(self.document)
        operation_ids = [
            operation["operationId"]
            for item in self.document["paths"].values()
            for operation in item.values()
        ]
        self.assertEqual(len(operation_ids), len(set(operation_ids)))

    def test_every_route_is_described_with_its_methods(self):
        # The mapper's own list of routes, with the methods each one answers.
        routed = {
            (route.routepath, method)
            for route in self.app.mapper.matchlist
            for method in self.app.route_table[route.routepath][1]
        }
        self.assertEqual(operations(self.document), routed)
        for path in ("/v2.1/servers", "/v2.1/{project_id}/servers/{server_id}/action"):
            self.assertIn(path, self.document["paths"])
        self.assertIn(
            "/v2.1/{project_id}/servers/{server_id}/os-virtual-interfaces/{id}",
            self.document["paths"],
        )

    def test_every_described_path_is_routed_and_other_methods_are_405(self):
        for path, item in self.document["paths"].items():
            url = re.sub(r"{(\w+)}", lambda m: "demo" if m[1] == "project_id" else "x", path)
            for method in METHODS:
                response = self.request(method, url)
                with self.subTest(path=path, method=method, status=response.status_int):
                    if method.lower() in item:
                        self.assertNotIn(NO_ROUTE, response.text)
                        self.assertNotEqual(response.status_int, 405)
                        self.assertLess(response.status_int, 500)
                    else:
                        self.assertEqual(response.status_int, 405)

    def test_request_schemas_are_the_validators(self):
        paths = self.document["paths"]
        create = paths["/v2.1/servers"]["post"]["requestBody"]["content"]["application/json"]
        server = create["schema"]["properties"]["server"]["properties"]
        # Core keys and the keys the loaded extensions add.
        self.assertLessEqual({"name", "imageRef", "flavorRef", "networks", "launch"}, set(server))
        self.assertEqual(server["name"], servers_schema.types.name)
        index = {p["name"]: p for p in paths["/v2.1/servers"]["get"]["parameters"]}
        self.assertEqual(set(index), set(servers_schema.index_query["properties"]))
        for path in ("/v2.1/servers", "/v2.1/servers/detail"):
            (since,) = (p for p in paths[path]["get"]["parameters"] if p["name"] == "changes-since")
            self.assertEqual((since["in"], since["schema"]["format"]), ("query", "date-time"))
        vifs = paths["/v2.1/servers/{server_id}/os-virtual-interfaces"]["get"]["parameters"]
        self.assertEqual(
            {(p["name"], p["in"]) for p in vifs},
            {("server_id", "path"), ("limit", "query"), ("offset", "query")},
        )
        action = paths["/v2.1/servers/{server_id}/action"]["post"]["requestBody"]
        launch, console, reset = action["content"]["application/json"]["schema"]["oneOf"]
        self.assertEqual(launch["properties"], {"launch": {"type": "null"}})
        self.assertEqual(
            console["properties"], {"os-getConsoleOutput": console_output_schema.get_console_output}
        )
        self.assertEqual(reset["properties"], {"os-resetState": admin_actions_schema.reset_state})
        responses = paths["/v2.1/servers/{server_id}/action"]["post"]["responses"]
        self.assertLessEqual({"200", "202", "409", "501"}, set(responses))

    def test_declared_query_parameters_are_validated(self):
        # As Nova 2.1: a parameter the description does not list is ignored, a
        # listed one with a bad value is refused naming it.
        for path, known in (
            ("/v2.1/servers", "limit"),
            ("/v2.1/servers/detail", "changes-since"),
            ("/v2.1/flavors", "minRam"),
        ):
            parameters = self.document["paths"][path]["get"].get("parameters", [])
            self.assertNotIn("bogus", {p["name"] for p in parameters})
            self.assertIn(known, {p["name"] for p in parameters})
            self.assertEqual(self.request("GET", f"{path}?bogus=1").status_int, 200, path)
            refused = self.request("GET", f"{path}?{known}=bogus")
            self.assertEqual(refused.status_int, 400, path)
            self.assertIn(f"query {known}", refused.json["badRequest"]["message"])
        self.assertEqual(self.request("GET", "/v2.1/servers?limit=1&name=x").status_int, 200)

    def test_faults_are_described_in_novas_shape(self):
        show = self.document["paths"]["/v2.1/servers/{server_id}"]["get"]["responses"]
        self.assertEqual(show["404"], {"$ref": "#/components/responses/itemNotFound"})
        self.assertEqual(show["401"], {"$ref": "#/components/responses/unauthorized"})
        schema = self.document["components"]["schemas"]["Fault"]
        for status, token in ((404, "alice:demo"), (401, None)):
            response = self.request("GET", "/v2.1/servers/nope", token=token)
            self.assertEqual(response.status_int, status)
            jsonschema.validate(response.json, schema)
        with self.assertRaises(jsonschema.ValidationError):
            jsonschema.validate({"itemNotFound": {"code": 404}}, schema)

    def test_security_is_the_token_header_except_on_public_routes(self):
        scheme = self.document["components"]["securitySchemes"]["token"]
        self.assertEqual(
            (scheme["type"], scheme["in"], scheme["name"]), ("apiKey", "header", "X-Auth-Token")
        )
        self.assertEqual(self.document["security"], [{"token": []}])
        public = {
            path
            for path, item in self.document["paths"].items()
            for operation in item.values()
            if operation.get("security") == []
        }
        self.assertEqual(public, {"/", "/v2", "/v2.1", openapi.PATH})
        # Public means no token, and so no project segment to check.
        self.assertEqual(self.request("GET", "/v2.1/demo/openapi.json").status_int, 404)


class ExtensionDescriptionTestCase(api_fixtures.APITestCase):
    def test_an_extensions_create_keys_are_described(self):
        directory = test_extensions.extension_dir(self, {"hello.py": test_extensions.GOOD})
        CONF.set_override("extensions_path", [directory, extensions.shipped_path()], group="api")
        self.addCleanup(CONF.clear_override, "extensions_path", group="api")
        self.app = router.APIRouter()
        document = self.request("GET", openapi.PATH, token=None).json
        create = document["paths"]["/v2.1/servers"]["post"]["requestBody"]["content"]
        server = create["application/json"]["schema"]["properties"]["server"]
        self.assertEqual(server["properties"]["greeting"], {"type": "string", "maxLength": 10})
