"""Migration tests shared by every database backend.

``tests/unit/db/test_migrations.py`` runs them on SQLite and
``tests/integration/test_migrations.py`` on PostgreSQL and MySQL.
"""

from __future__ import annotations

import datetime
import uuid

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from nova import exception
from nova.db import engine as db_engine
from nova.db import migration
from nova.db import models
from tests import databases

NOW = datetime.datetime(2011, 8, 17, 12, 0, 0)


def schema_snapshot(connection: sa.Connection) -> dict[str, dict]:
    """Describe every Nova table (columns, keys, indexes) in a comparable form."""
    inspector = sa.inspect(connection)
    snapshot = {}
    for table in sorted(set(inspector.get_table_names()) - {"alembic_version"}):
        snapshot[table] = {
            # Sorted: a column re-added by a downgrade comes last, which is fine.
            "columns": sorted(
                (c["name"], c["nullable"], str(c["type"]).split("(")[0])
                for c in inspector.get_columns(table)
            ),
            "foreign_keys": sorted(
                (
                    tuple(fk["constrained_columns"]),
                    fk["referred_table"],
                    tuple(fk["referred_columns"]),
                )
                for fk in inspector.get_foreign_keys(table)
            ),
            "unique": sorted(
                tuple(u["column_names"]) for u in inspector.get_unique_constraints(table)
            ),
            "indexes": sorted(
                (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                for i in inspector.get_indexes(table)
                # MySQL shows a unique constraint as an index too.
                if not i.get("duplicates_constraint")
            ),
        }
    return snapshot


class MigrationChecks(databases.DatabaseTestCase):
    """Walk, upgrade-with-data, model comparison and refusals on ``BACKEND``."""

    __test__ = False  # collected through the per-backend subclasses

    def setUp(self) -> None:
        super().setUp()
        self.engine = db_engine.create_engine(self.db_url)
        self.addCleanup(self.engine.dispose)

    def sync(self, version: int | None = None) -> migration.SyncResult:
        result = migration.db_sync(version, url=self.db_url)
        self.assertEqual(migration.db_version(url=self.db_url), result.end)
        return result

    def snapshot(self) -> dict[str, dict]:
        with self.engine.connect() as connection:
            return schema_snapshot(connection)

    def execute(self, statement: str, params=None):
        with self.engine.begin() as connection:
            return connection.execute(sa.text(statement), params or {})

    def rows(self, statement: str) -> list[tuple]:
        with self.engine.connect() as connection:
            return [tuple(row) for row in connection.execute(sa.text(statement))]

    # --- fixtures written with plain SQL, as the schema was at that revision ---

    def add_instance(self, instance_id: int, **extra) -> None:
        values = {
            "id": instance_id,
            "uuid": str(uuid.uuid4()),
            "project_id": "demo",
            "created_at": NOW,
            "deleted": 0,
            **extra,
        }
        columns = ", ".join(values)
        self.execute(
            f"INSERT INTO instances ({columns}) VALUES ({', '.join(':' + c for c in values)})",
            values,
        )

    def add_network(self, network_id: int, vlan: int) -> None:
        self.execute(
            "INSERT INTO networks (id, uuid, label, cidr, bridge, vlan, multi_host, deleted) "
            "VALUES (:id, :uuid, :label, :cidr, :bridge, :vlan, :multi_host, 0)",
            {
                "id": network_id,
                "uuid": str(uuid.uuid4()),
                "label": f"net{network_id}",
                "cidr": f"10.0.{network_id}.0/24",
                "bridge": f"br{100 + network_id}",
                "vlan": vlan,
                "multi_host": False,
            },
        )

    def add_fixed_ip(self, ip_id: int, network_id: int, instance_id: int | None) -> None:
        self.execute(
            "INSERT INTO fixed_ips (id, address, network_id, instance_id, allocated, leased, "
            "reserved, deleted) VALUES (:id, :address, :network_id, :instance_id, :allocated, "
            ":leased, :reserved, 0)",
            {
                "id": ip_id,
                "address": f"10.0.{network_id}.{ip_id + 2}",
                "network_id": network_id,
                "instance_id": instance_id,
                "allocated": instance_id is not None,
                "leased": False,
                "reserved": False,
            },
        )

    def add_vif(self, vif_id: int, instance_id: int, network_id: int | None, **extra) -> str:
        values = {
            "id": vif_id,
            "uuid": str(uuid.uuid4()),
            "address": f"fa:16:3e:00:00:{vif_id:02x}",
            "instance_id": instance_id,
            "network_id": network_id,
            "created_at": NOW,
            "deleted": 0,
            **extra,
        }
        columns = ", ".join(values)
        self.execute(
            f"INSERT INTO virtual_interfaces ({columns}) "
            f"VALUES ({', '.join(':' + c for c in values)})",
            values,
        )
        return values["uuid"]

    # --- the tests --------------------------------------------------------------

    def test_walk_up_down_up(self):
        head = migration.head_version()
        self.assertGreaterEqual(head, 4)
        upward = {0: self.snapshot()}
        for version in range(1, head + 1):
            result = self.sync(version)
            self.assertEqual((result.start, result.end), (version - 1, version))
            upward[version] = self.snapshot()
        for version in range(head - 1, -1, -1):
            result = self.sync(version)
            self.assertEqual((result.start, result.end), (version + 1, version))
            self.assertEqual(
                upward[version], self.snapshot(), f"downgrade to {version} differs from upgrade"
            )
        self.assertEqual({}, self.snapshot())
        self.assertEqual(self.sync().end, head)
        self.assertEqual(upward[head], self.snapshot())

    def test_models_match_migrated_schema(self):
        self.sync()
        with self.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            self.assertEqual([], compare_metadata(context, models.Base.metadata))

    def test_default_flavors_seeded(self):
        self.sync()
        names = [name for (name,) in self.rows("SELECT name FROM flavors ORDER BY memory_mb")]
        self.assertEqual(names, ["m1.tiny", "m1.small", "m1.medium", "m1.large", "m1.xlarge"])

    def test_multi_nic_moves_mac_address_into_vif(self):
        self.sync(1)
        self.add_network(1, vlan=100)
        self.add_instance(1, mac_address="02:16:3e:00:00:01")
        self.add_instance(2, mac_address="02:16:3e:00:00:02", deleted=2, deleted_at=NOW)
        self.add_fixed_ip(1, network_id=1, instance_id=1)
        self.add_fixed_ip(2, network_id=1, instance_id=2)
        self.add_fixed_ip(3, network_id=1, instance_id=None)

        self.sync(2)
        vifs = self.rows(
            "SELECT instance_id, address, network_id, deleted FROM virtual_interfaces "
            "ORDER BY instance_id"
        )
        self.assertEqual(vifs, [(1, "02:16:3e:00:00:01", 1, 0), (2, "02:16:3e:00:00:02", 1, 2)])
        links = self.rows(
            "SELECT f.id, v.instance_id FROM fixed_ips f "
            "LEFT JOIN virtual_interfaces v ON v.id = f.virtual_interface_id ORDER BY f.id"
        )
        self.assertEqual(links, [(1, 1), (2, 2), (3, None)])
        self.assertNotIn("mac_address", [c[0] for c in self.snapshot()["instances"]["columns"]])

        self.sync(1)
        macs = self.rows("SELECT id, mac_address FROM instances ORDER BY id")
        self.assertEqual(macs, [(1, "02:16:3e:00:00:01"), (2, None)])

    def test_multi_nic_downgrade_refused_with_two_nics(self):
        self.sync(2)
        self.add_network(1, vlan=100)
        self.add_instance(1)
        self.execute(
            "INSERT INTO virtual_interfaces (address, network_id, instance_id, deleted) "
            "VALUES ('fa:16:3e:00:00:01', 1, 1, 0), ('fa:16:3e:00:00:02', 1, 1, 0)"
        )
        before = self.snapshot()
        with self.assertRaisesRegex(exception.DBDowngradeRefused, "more than one virtual"):
            self.sync(1)
        self.assertEqual(migration.db_version(url=self.db_url), 2)
        self.assertEqual(before, self.snapshot())

    def test_upgrade_with_data_keeps_rows_and_foreign_key(self):
        refactoring = 4
        self.sync(refactoring - 1)
        for network_id in (1, 2):
            self.add_network(network_id, vlan=100 + network_id)
        for instance_id in (1, 2, 3):
            self.add_instance(instance_id, display_name=f"vm{instance_id}", host="compute1")
        vif_uuids = [
            self.add_vif(1, instance_id=1, network_id=1),
            self.add_vif(2, instance_id=1, network_id=2),
            self.add_vif(3, instance_id=2, network_id=1),
            self.add_vif(4, instance_id=3, network_id=2, deleted=4, deleted_at=NOW),
        ]
        self.add_fixed_ip(1, network_id=1, instance_id=1)
        self.execute("UPDATE fixed_ips SET virtual_interface_id = 1 WHERE id = 1")
        columns = "id, uuid, address, instance_id, network_id, created_at, deleted, deleted_at"
        tables = {
            "virtual_interfaces": f"SELECT {columns} FROM virtual_interfaces ORDER BY id",
            "instances": "SELECT id, uuid, display_name, host FROM instances ORDER BY id",
            "networks": "SELECT id, uuid, label, vlan FROM networks ORDER BY id",
            "fixed_ips": "SELECT id, address, virtual_interface_id FROM fixed_ips ORDER BY id",
        }
        before = {name: self.rows(query) for name, query in tables.items()}
        self.assertEqual([row[1] for row in before["virtual_interfaces"]], vif_uuids)

        self.sync()

        self.assertEqual(before, {name: self.rows(query) for name, query in tables.items()})
        vif_table = self.snapshot()["virtual_interfaces"]
        self.assertIn((("network_id",), "networks", ("id",)), vif_table["foreign_keys"])
        self.assertIn(("network_id", True, "INTEGER"), vif_table["columns"])

        # The foreign key still binds the VIFs that do name a network ...
        with self.assertRaises(sa.exc.IntegrityError):
            self.add_vif(5, instance_id=1, network_id=99)
        # ... and a VIF of an external L2 service has none.
        self.add_vif(6, instance_id=2, network_id=None, port_id=str(uuid.uuid4()))
        self.assertEqual(
            self.rows("SELECT network_id FROM virtual_interfaces WHERE id = 6"), [(None,)]
        )

    def test_downgrade_refused_while_vifs_have_no_network(self):
        self.sync()
        self.add_network(1, vlan=101)
        self.add_instance(1)
        self.add_vif(1, instance_id=1, network_id=1)
        self.add_vif(2, instance_id=1, network_id=None)
        before = self.snapshot()

        with self.assertRaisesRegex(exception.DBDowngradeRefused, "network_id is NULL"):
            self.sync(3)

        self.assertEqual(migration.db_version(url=self.db_url), migration.head_version())
        self.assertEqual(before, self.snapshot())
        self.assertEqual(
            self.rows("SELECT id, network_id FROM virtual_interfaces ORDER BY id"),
            [(1, 1), (2, None)],
        )

        # Once those VIFs are gone (for real: soft-deleted rows count), it works.
        self.execute("DELETE FROM virtual_interfaces WHERE network_id IS NULL")
        self.assertEqual(self.sync(3).end, 3)
        self.assertEqual(self.rows("SELECT id FROM virtual_interfaces"), [(1,)])

    def test_port_binding_downgrade_refused_while_ports_bound(self):
        self.sync()
        self.add_network(1, vlan=101)
        self.add_instance(1)
        self.add_vif(1, instance_id=1, network_id=1, port_id=str(uuid.uuid4()))
        with self.assertRaisesRegex(exception.DBDowngradeRefused, "bound to external ports"):
            self.sync(4)
        self.assertEqual(migration.db_version(url=self.db_url), migration.head_version())
