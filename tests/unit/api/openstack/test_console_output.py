"""``os-getConsoleOutput``: the server action, in-process, with the compute host's RPC stubbed."""

from __future__ import annotations

from unittest import mock

from nova import context as nova_context
from nova import exception
from nova.db import instances as instance_db
from tests.fixtures import api as api_fixtures

ADMIN = nova_context.get_admin_context()


class ConsoleOutputTestCase(api_fixtures.APITestCase):
    def setUp(self) -> None:
        super().setUp()
        patcher = mock.patch(
            "nova.compute.rpcapi.ComputeAPI.get_console_output",
            return_value="boot\r\x01line\x1b[0m\ttab\nlast",
        )
        self.rpc = patcher.start()
        self.addCleanup(patcher.stop)
        self.server_id = self.create_server(networks="none")
        instance_db.instance_update(ADMIN, self.server_id, {"host": "c1"})

    def console(self, argument, server_id=None, token="alice:demo"):
        body = {"os-getConsoleOutput": argument}
        path = f"/v2.1/servers/{server_id or self.server_id}/action"
        return self.request("POST", path, body, token=token)

    def test_output_of_the_host_without_control_characters(self):
        response = self.console({"length": 5})
        self.assertEqual(response.status_int, 200, response.text)
        # As Nova: what is not text (\r, escapes) goes; tab and newline stay.
        self.assertEqual(response.json, {"output": "bootline[0m\ttab\nlast"})
        (call,) = self.rpc.call_args_list
        self.assertEqual(call.args[1:], ("c1", self.server_id, 5))

    def test_lengths_as_nova_takes_them(self):
        for argument, tail in (
            ({"length": 3}, 3),
            ({"length": "3"}, 3),
            ({"length": 0}, 0),
            ({"length": -1}, None),
            ({"length": "-1"}, None),
            ({"length": None}, None),
            ({}, None),
        ):
            with self.subTest(argument=argument):
                self.rpc.reset_mock()
                response = self.console(argument)
                self.assertEqual(response.status_int, 200, response.text)
                self.assertEqual(self.rpc.call_args.args[3], tail)

    def test_bad_input_is_400_and_asks_nothing_of_the_host(self):
        for argument in (
            {"length": -2},
            {"length": "-2"},
            {"length": "abc"},
            {"length": 1.5},
            {"length": True},
            {"length": []},
            {"length": 1, "other": 2},
            None,
            "5",
        ):
            with self.subTest(argument=argument):
                response = self.console(argument)
                self.assertEqual(response.status_int, 400, response.text)
                self.assertIn("badRequest", response.json)
        self.rpc.assert_not_called()

    def test_a_server_without_a_host_is_409(self):
        defined = self.create_server(networks="none", launch=False)
        response = self.console({}, server_id=defined)
        self.assertEqual(response.status_int, 409, response.text)
        self.assertIn("conflictingRequest", response.json)
        self.rpc.assert_not_called()

    def test_another_projects_server_and_an_unknown_one_are_404(self):
        for server_id, token in (
            (self.server_id, "mallory:other"),
            ("8d1f9bc7-5e3e-4d4c-9a52-3c0b42b1a2f0", "alice:demo"),
        ):
            response = self.console({}, server_id=server_id, token=token)
            self.assertEqual(response.status_int, 404, response.text)
            self.assertIn("itemNotFound", response.json)
        self.rpc.assert_not_called()
        # An admin sees any project's.
        self.assertEqual(self.console({}, token="admin:admin").status_int, 200)

    def test_the_hosts_refusals(self):
        for error, status, fault in (
            (exception.ConsoleNotAvailable(instance_id=self.server_id), 404, "itemNotFound"),
            (exception.InstanceNotFound(instance_id=self.server_id), 404, "itemNotFound"),
            (NotImplementedError(), 501, "notImplemented"),
        ):
            with self.subTest(error=type(error).__name__):
                self.rpc.side_effect = error
                response = self.console({})
                self.assertEqual(response.status_int, status, response.text)
                self.assertIn(fault, response.json)
