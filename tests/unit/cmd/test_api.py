"""``nova-api``: gunicorn's settings carry the API server's limits."""

from __future__ import annotations

import unittest

from gunicorn import config as gunicorn_config

import nova.conf
from nova.cmd import api

CONF = nova.conf.CONF


class GunicornOptionsTestCase(unittest.TestCase):
    def override(self, name, value, group=None) -> None:
        CONF.set_override(name, value, group)
        self.addCleanup(CONF.clear_override, name, group)

    def test_the_wsgi_limits_become_gunicorn_settings(self):
        self.override("threads", 6, "wsgi")
        self.override("max_connections", 300, "wsgi")
        self.override("client_socket_timeout", 20, "wsgi")
        self.override("max_header_line", 32768, "wsgi")
        self.override("max_header_count", 50, "wsgi")
        options = api.gunicorn_options()
        self.assertEqual(
            {key: options[key] for key in ("worker_class", "threads", "worker_connections")},
            {"worker_class": "gthread", "threads": 6, "worker_connections": 300},
        )
        self.assertEqual(options["keepalive"], 20)
        # gunicorn accepts no longer request line than 8190 bytes.
        self.assertEqual(options["limit_request_line"], 8190)
        self.assertEqual(options["limit_request_field_size"], 32768)
        self.assertEqual(options["limit_request_fields"], 50)
        settings = gunicorn_config.Config()
        for key, value in options.items():
            settings.set(key, value)  # each is a setting gunicorn knows, of its type
        self.assertEqual(settings.limit_request_fields, 50)
