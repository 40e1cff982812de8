"""Each record's fields are its table's (or its statement's) columns, in order."""

from __future__ import annotations

import unittest

from nova.db import models
from nova.db import records
from nova.db import views


class RecordsTestCase(unittest.TestCase):
    def test_entity_records_are_their_tables_columns(self):
        for record, model in (
            (records.Flavor, models.Flavor),
            (records.Instance, models.Instance),
            (records.InstanceFault, models.InstanceFault),
            (records.Service, models.Service),
            (records.ComputeNode, models.ComputeNode),
            (records.Network, models.Network),
            (records.FixedIp, models.FixedIp),
            (records.VirtualInterface, models.VirtualInterface),
            (records.KeyPair, models.KeyPair),
        ):
            with self.subTest(record=record.__name__):
                self.assertEqual(record._fields, tuple(model.__table__.c.keys()))

    def test_view_records_are_their_statements_columns(self):
        self.assertEqual(
            records.InstanceView._fields, tuple(views.ANY_SERVERS.selected_columns.keys())
        )
        for statement in views.VIFS_OF_INSTANCE.values():
            self.assertEqual(
                records.VirtualInterfaceView._fields, tuple(statement.selected_columns.keys())
            )
