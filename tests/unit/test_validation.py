"""``servicekit.validation``: the compiled check never accepts what jsonschema refuses."""

from __future__ import annotations

import copy
import unittest
import uuid

import jsonschema

import nova.conf
from nova.api.openstack import extensions
from nova.api.openstack import wsgi
from nova.api.openstack.schemas import servers as server_schemas
from quantum.api import schemas as quantum_schemas
from servicekit import validation

#: Values put in every place of a valid document, one at a time.
REPLACEMENTS = (
    None,
    True,
    False,
    0,
    1,
    2.0,
    1.5,
    -1,
    "",
    "x",
    "x" * 300,
    "1",
    "ACTIVE",
    "true",
    str(uuid.uuid4()),
    "not-a-uuid",
    "10.0.0.1",
    "10.0.0.256",
    "2026-11-22T01:02:03Z",
    "yesterday",
    "a\n",
    [],
    [{}],
    {},
    {"x": "y"},
)


def _variants(document):
    """Yield ``document`` and every one-place change of it (replaced, removed, added)."""
    yield document
    paths = []

    def walk(node, path):
        if isinstance(node, dict):
            for key, value in node.items():
                paths.append((*path, key))
                walk(value, (*path, key))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                paths.append((*path, index))
                walk(value, (*path, index))

    walk(document, ())
    for path in paths:
        for value in (*REPLACEMENTS, "<removed>"):
            changed = copy.deepcopy(document)
            parent = changed
            for part in path[:-1]:
                parent = parent[part]
            if value == "<removed>":
                del parent[path[-1]]
            else:
                parent[path[-1]] = value
            yield changed
    for container_path in [(), *[p for p in paths]]:
        changed = copy.deepcopy(document)
        node = changed
        for part in container_path:
            node = node[part]
        if isinstance(node, dict):
            node["unexpected"] = "x"
            yield changed
    for value in REPLACEMENTS:
        yield value


def _api_schemas():
    manager = extensions.ExtensionManager(
        extensions.configured_paths(nova.conf.CONF.api.extensions_path)
    )
    network, port = str(uuid.uuid4()), str(uuid.uuid4())
    server = {
        "name": "vm",
        "imageRef": "cirros",
        "flavorRef": "1",
        "networks": [{"uuid": network, "fixed_ip": "10.0.0.5"}, {"port": port}],
        "metadata": {"key": "value"},
        "min_count": 1,
        "max_count": 2,
        "availability_zone": "nova",
        "launch": False,
        # Nova 2.1's other keys.
        "accessIPv4": "1.2.3.4",
        "accessIPv6": "80fe::",
        "OS-DCF:diskConfig": "AUTO",
        "config_drive": "true",
        "return_reservation_id": False,
        "key_name": "key",
        "user_data": "aGVsbG8K",
        "personality": [{"path": "/etc/motd", "contents": "aGVsbG8K"}],
        "security_groups": [{"name": "default"}],
        "block_device_mapping_v2": [
            {"uuid": network, "boot_index": 0, "source_type": "image",
             "destination_type": "local", "delete_on_termination": True}
        ],
    }  # fmt: skip
    return [
        (
            "server create",
            server_schemas.create(manager.server_create_schema(), 10),
            {"server": server},
            wsgi._FORMATS,
        ),
        (
            "server action",
            server_schemas.actions(manager.server_action_schemas()),
            {"launch": None},
            wsgi._FORMATS,
        ),
        ("server update", server_schemas.update, {"server": {"name": "vm2"}}, wsgi._FORMATS),
        (
            "servers query",
            server_schemas.index_query,
            {"limit": "5", "status": "ACTIVE", "changes-since": "2026-11-22T01:02:03Z"},
            wsgi._FORMATS,
        ),
        (
            "network create",
            quantum_schemas.network_create,
            {"network": {"name": "n", "plugin": "openvswitch", "configuration": {"vlan": "5"}}},
            None,
        ),
        (
            "network update",
            quantum_schemas.network_update,
            {"network": {"name": "n", "configuration": {"vlan": None}}},
            None,
        ),
        (
            "port create",
            quantum_schemas.port_create,
            {"port": {"state": "ACTIVE", "configuration": {"vif_type": "ovs"}}},
            None,
        ),
        (
            "port update",
            quantum_schemas.port_update,
            {"port": {"state": "DOWN", "configuration": {"mtu": None}}},
            None,
        ),
        ("attachment", quantum_schemas.attachment, {"attachment": {"id": "vif-1"}}, None),
    ]


class APISchemasTestCase(unittest.TestCase):
    def test_every_api_schema_is_compiled(self):
        for name, schema, _document, formats in _api_schemas():
            with self.subTest(schema=name):
                self.assertIsNotNone(validation.checker(schema, formats).fast)

    def test_verdicts_are_jsonschemas(self):
        for name, schema, document, formats in _api_schemas():
            checker = validation.checker(schema, formats)
            reference = jsonschema.Draft202012Validator(schema, format_checker=formats)
            self.assertTrue(reference.is_valid(document), name)
            checked = 0
            for variant in _variants(document):
                before = copy.deepcopy(variant)
                with self.subTest(schema=name, document=variant):
                    self.assertEqual(checker.is_valid(variant), reference.is_valid(variant))
                    self.assertEqual(variant, before)  # nothing written into it
                checked += 1
            self.assertGreater(checked, 50, name)


class QualifyingTestCase(unittest.TestCase):
    def test_keywords_draft_7_reads_otherwise_are_left_to_jsonschema(self):
        for schema in (
            {"$defs": {"n": {"type": "integer"}}, "$ref": "#/$defs/n"},
            {"type": "array", "prefixItems": [{"type": "string"}]},
            {"type": "object", "dependentRequired": {"a": ["b"]}},
            {"type": "object", "properties": {"a": {"unevaluatedProperties": False}}},
        ):
            with self.subTest(schema=schema):
                self.assertIsNone(validation.Checker(schema).fast)

    def test_enums_of_numbers_are_left_to_jsonschema(self):
        checker = validation.Checker({"enum": [0, 1]})
        self.assertIsNone(checker.fast)
        self.assertFalse(checker.is_valid(True))
        self.assertTrue(checker.is_valid(1))

    def test_booleans_are_not_numbers(self):
        checker = validation.Checker({"type": "object", "properties": {"n": {"type": "integer"}}})
        self.assertIsNotNone(checker.fast)
        self.assertFalse(checker.is_valid({"n": True}))
        self.assertTrue(checker.is_valid({"n": 2.0}))  # 2020-12: an integer

    def test_formats_are_checked_as_jsonschema_checks_them(self):
        schema = {"type": "string", "format": "uuid"}
        unchecked = validation.Checker(schema)  # no format checker: formats are annotations
        self.assertTrue(unchecked.is_valid("not-a-uuid"))
        checked = validation.Checker(schema, jsonschema.FormatChecker(["uuid"]))
        self.assertFalse(checked.is_valid("not-a-uuid"))
        self.assertTrue(checked.is_valid(str(uuid.uuid4())))

    def test_defaults_are_not_written(self):
        checker = validation.Checker(
            {"type": "object", "properties": {"a": {"type": "string", "default": "x"}}}
        )
        document = {}
        self.assertTrue(checker.is_valid(document))
        self.assertEqual(document, {})

    def test_the_error_is_jsonschemas(self):
        schema = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}
        error = validation.Checker(schema).error({"a": 5})
        self.assertEqual(error.message, "5 is not of type 'string'")
        self.assertEqual(list(error.absolute_path), ["a"])
