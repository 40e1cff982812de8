"""The database API on SQLite: virtual interfaces, instances, scoping."""

from __future__ import annotations

import re
import sqlite3
import uuid
from unittest import mock

import sqlalchemy as sa
from oslo_db import exception as db_exc

import nova.conf
from nova import context as nova_context
from nova import exception
from nova.db import flavors as flavor_db
from nova.db import instances as instance_db
from nova.db import models
from nova.db import networks as legacy_db
from nova.db import session as db_session
from nova.db import virtual_interfaces as vif_db
from tests.fixtures import databases

MAC_RE = re.compile(r"^fa:16:3e(:[0-9a-f]{2}){3}$")


class VirtualInterfaceTestCase(databases.SchemaTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.context = nova_context.RequestContext("alice", "project-a")
        self.other = nova_context.RequestContext("bob", "project-b")
        self.network = legacy_db.network_create(self.context, {"label": "net1", "vlan": 100})
        self.instance = instance_db.instance_create(
            self.context, {"project_id": "project-a", "user_id": "alice", "display_name": "vm1"}
        )

    def create_vif(self, **values):
        values.setdefault("instance_id", self.instance.id)
        values.setdefault("network_id", self.network.id)
        return vif_db.virtual_interface_create(self.context, values)

    def test_create_generates_uuid_and_mac(self):
        vif = self.create_vif()
        self.assertRegex(vif.address, MAC_RE)
        self.assertEqual(str(uuid.UUID(vif.uuid)), vif.uuid)
        self.assertEqual(vif.deleted, 0)
        self.assertFalse(vif.preserve_on_delete)
        self.assertIsNotNone(vif.created_at)

    def test_create_without_network_for_external_port(self):
        port_id = str(uuid.uuid4())
        vif = self.create_vif(network_id=None, port_id=port_id, network_uuid=str(uuid.uuid4()))
        fetched = vif_db.virtual_interface_get_by_uuid(self.context, vif.uuid)
        self.assertIsNone(fetched.network_id)
        self.assertEqual(fetched.port_id, port_id)

    def test_generated_mac_collision_is_retried(self):
        taken = self.create_vif().address
        fresh = "fa:16:3e:aa:bb:cc"
        with mock.patch.object(
            vif_db, "generate_mac_address", side_effect=[taken, taken, fresh]
        ) as generator:
            vif = self.create_vif()
        self.assertEqual(vif.address, fresh)
        self.assertEqual(generator.call_count, 3)

    def test_gives_up_after_max_attempts(self):
        taken = self.create_vif().address
        with mock.patch.object(vif_db, "generate_mac_address", return_value=taken) as generator:
            with self.assertRaises(exception.VirtualInterfaceCreateFailed):
                self.create_vif()
        self.assertEqual(generator.call_count, vif_db.MAC_ATTEMPTS)
        self.assertEqual(
            len(vif_db.virtual_interface_get_by_instance(self.context, self.instance.id)), 1
        )

    def test_given_mac_in_use_is_a_conflict(self):
        vif = self.create_vif()
        with self.assertRaises(exception.VirtualInterfaceMacAddressConflict):
            self.create_vif(address=vif.address)

    def test_mac_of_deleted_vif_can_be_reused(self):
        vif = self.create_vif()
        vif_db.virtual_interface_delete_by_instance(self.context, self.instance.id)
        again = self.create_vif(address=vif.address)
        self.assertEqual(again.address, vif.address)
        self.assertNotEqual(again.uuid, vif.uuid)

    def test_port_bound_twice_is_a_conflict(self):
        port_id = str(uuid.uuid4())
        self.create_vif(network_id=None, port_id=port_id)
        with self.assertRaises(exception.PortInUse):
            self.create_vif(network_id=None, port_id=port_id)

    def test_several_in_one_transaction_all_or_none(self):
        port_a, port_b = str(uuid.uuid4()), str(uuid.uuid4())
        self.create_vif(network_id=None, port_id=port_b)  # another VIF has port b
        both = [
            {"instance_id": self.instance.id, "network_id": None, "port_id": port}
            for port in (port_a, port_b)
        ]
        with self.assertRaises(exception.PortInUse):
            vif_db.virtual_interfaces_create(self.context, both)
        ports = [
            v.port_id
            for v in vif_db.virtual_interface_get_by_instance(self.context, self.instance.id)
        ]
        self.assertEqual(ports, [port_b])  # port a's row went with the failed transaction
        vif_db.virtual_interface_delete_by_instance(self.context, self.instance.id)
        created = vif_db.virtual_interfaces_create(self.context, both)
        self.assertEqual([v.port_id for v in created], [port_a, port_b])
        self.assertEqual(len({v.address for v in created}), 2)

    def test_several_never_generate_the_same_mac_twice(self):
        given = "fa:16:3e:00:00:01"
        fresh = "fa:16:3e:00:00:02"
        values = {"instance_id": self.instance.id, "network_id": None}
        with mock.patch.object(vif_db, "generate_mac_address", side_effect=[given, fresh]):
            created = vif_db.virtual_interfaces_create(
                self.context, [{**values, "address": given}, values]
            )
        self.assertEqual([v.address for v in created], [given, fresh])

    def test_unknown_network_is_a_reference_error(self):
        with self.assertRaises(db_exc.DBReferenceError) as caught:
            self.create_vif(network_id=999)
        self.assertIsInstance(caught.exception.inner_exception, sa.exc.IntegrityError)

    def test_get_by_uuid_is_scoped_to_project(self):
        vif = self.create_vif()
        self.assertEqual(vif_db.virtual_interface_get_by_uuid(self.context, vif.uuid).id, vif.id)
        with self.assertRaises(exception.VirtualInterfaceNotFound):
            vif_db.virtual_interface_get_by_uuid(self.other, vif.uuid)
        admin = nova_context.get_admin_context()
        self.assertEqual(vif_db.virtual_interface_get_by_uuid(admin, vif.uuid).id, vif.id)

    def test_get_by_uuid_unknown(self):
        with self.assertRaises(exception.VirtualInterfaceNotFound):
            vif_db.virtual_interface_get_by_uuid(self.context, str(uuid.uuid4()))

    def test_list_by_instance_is_ordered(self):
        created = [self.create_vif().uuid for _ in range(5)]
        other_instance = instance_db.instance_create(self.context, {"project_id": "project-a"})
        self.create_vif(instance_id=other_instance.id)
        vifs = vif_db.virtual_interface_get_by_instance(self.context, self.instance.id)
        self.assertEqual([vif.uuid for vif in vifs], created)
        self.assertEqual(vif_db.virtual_interface_get_by_instance(self.other, self.instance.id), [])

    def test_delete_by_instance_soft_deletes(self):
        vifs = [self.create_vif() for _ in range(2)]
        other_instance = instance_db.instance_create(self.context, {"project_id": "project-a"})
        survivor = self.create_vif(instance_id=other_instance.id)

        self.assertEqual(
            vif_db.virtual_interface_delete_by_instance(self.context, self.instance.id), 2
        )
        self.assertEqual(
            vif_db.virtual_interface_delete_by_instance(self.context, self.instance.id), 0
        )

        self.assertEqual(
            vif_db.virtual_interface_get_by_instance(self.context, self.instance.id), []
        )
        with db_session.get_engine().connect() as connection:
            rows = connection.execute(
                sa.text("SELECT id, deleted, deleted_at FROM virtual_interfaces ORDER BY id")
            ).all()
        self.assertEqual(
            [(r.id, r.deleted) for r in rows], [(v.id, v.id) for v in vifs] + [(survivor.id, 0)]
        )
        self.assertTrue(all(r.deleted_at for r in rows[:2]))


class InstanceTestCase(databases.SchemaTestCase):
    def test_create_with_metadata_and_get_scoped(self):
        context = nova_context.RequestContext("alice", "project-a")
        instance = instance_db.instance_create(
            context, {"project_id": "project-a", "metadata": {"role": "web", "tier": "1"}}
        )
        fetched = instance_db.instance_get_by_uuid(context, instance.uuid)
        self.assertEqual(
            instance_db.instance_metadata_get(context, [fetched.id]),
            {fetched.id: {"role": "web", "tier": "1"}},
        )
        with self.assertRaises(exception.InstanceNotFound):
            instance_db.instance_get_by_uuid(nova_context.RequestContext("bob", "b"), instance.uuid)

    def test_default_flavors(self):
        context = nova_context.get_admin_context()
        flavors = flavor_db.flavor_get_all(context)
        self.assertEqual([f.name for f in flavors][:2], ["m1.tiny", "m1.small"])
        self.assertEqual(flavor_db.flavor_get_by_flavor_id(context, "1").memory_mb, 512)
        with self.assertRaises(exception.FlavorNotFound):
            flavor_db.flavor_get_by_flavor_id(context, "nope")

    @staticmethod
    def columns(instance) -> dict:
        """Return the row's values; times to the second (MySQL's DATETIME keeps no more)."""
        values = {}
        for column in models.Instance.__table__.columns:
            value = getattr(instance, column.key)
            values[column.key] = (
                value.replace(microsecond=0) if column.key.endswith("_at") and value else value
            )
        return values

    def check_update_returns_the_row(self):
        context = nova_context.RequestContext("alice", "project-a")
        created = instance_db.instance_create(context, {"project_id": "project-a", "vm_state": "a"})
        fetched = instance_db.instance_get_by_uuid(context, created.uuid)
        self.assertEqual(self.columns(created), self.columns(fetched))
        updated = instance_db.instance_update(
            context, created.uuid, {"vm_state": "b", "host": "h1"}, expected={"vm_state": "a"}
        )
        self.assertEqual((updated.id, updated.vm_state, updated.host), (created.id, "b", "h1"))
        self.assertIsNotNone(updated.updated_at)
        fetched = instance_db.instance_get_by_uuid(context, created.uuid)
        self.assertEqual(self.columns(updated), self.columns(fetched))
        with self.assertRaises(exception.InstanceInvalidState):
            instance_db.instance_update(context, created.uuid, {"vm_state": "c"}, {"vm_state": "a"})
        with self.assertRaises(exception.InstanceNotFound):
            instance_db.instance_update(
                nova_context.RequestContext("bob", "project-b"), created.uuid, {"vm_state": "c"}
            )
        self.assertEqual(instance_db.instance_get_by_uuid(context, created.uuid).vm_state, "b")

    def test_update_returns_the_row(self):
        self.check_update_returns_the_row()

    def test_update_returns_the_row_without_update_returning(self):
        # MySQL and MariaDB have no UPDATE ... RETURNING: the row is read back.
        dialect = db_session.get_engine().dialect
        with mock.patch.object(dialect, "update_returning", False):
            self.check_update_returns_the_row()

    def test_update_expectations_of_every_kind_with_statements_built_once(self):
        admin = nova_context.get_admin_context()
        user = nova_context.RequestContext("alice", "project-a")
        first, second = (
            instance_db.instance_create(user, {"project_id": "project-a", "vm_state": "a"})
            for _ in range(2)
        )
        built = self.enterContext(mock.patch.dict(instance_db._updates, clear=True))
        # Same shapes, other values: the statements are shared, the values not.
        for instance in (first, second):
            updated = instance_db.instance_update(
                admin, instance.uuid, {"host": "h1"}, expected={"host": None, "vm_state": ["a"]}
            )
            self.assertEqual((updated.uuid, updated.host), (instance.uuid, "h1"))
        self.assertEqual(len(built), 1)
        with self.assertRaises(exception.InstanceInvalidState):
            instance_db.instance_update(
                admin, first.uuid, {"host": "h2"}, expected={"host": None, "vm_state": ["a"]}
            )
        with self.assertRaises(exception.InstanceInvalidState):
            instance_db.instance_update(user, second.uuid, {"vm_state": "b"}, {"host": "h2"})
        updated = instance_db.instance_update(
            user, second.uuid, {"vm_state": "b"}, {"host": "h1", "vm_state": ("x", "a")}
        )
        self.assertEqual((updated.vm_state, updated.host), ("b", "h1"))
        self.assertEqual(instance_db.instance_get_by_uuid(admin, first.uuid).vm_state, "a")
        self.assertEqual(len(built), 3)  # and the user's two shapes

    def test_destroy_is_scoped_to_the_project(self):
        context = nova_context.RequestContext("alice", "project-a")
        instance = instance_db.instance_create(context, {"project_id": "project-a"})
        with self.assertRaises(exception.InstanceNotFound):
            instance_db.instance_destroy(nova_context.RequestContext("bob", "b"), instance.uuid)
        instance_db.instance_destroy(context, instance.uuid)
        with self.assertRaises(exception.InstanceNotFound):
            instance_db.instance_destroy(context, instance.uuid)


class ReadWhileWritingTestCase(databases.SchemaTestCase):
    """On SQLite, reads begin DEFERRED: they see a snapshot beside a held write lock."""

    def test_read_does_not_wait_for_writer_but_write_does(self):
        context = nova_context.RequestContext("alice", "project-a")
        instance = instance_db.instance_create(context, {"project_id": "project-a"})
        nova.conf.CONF.set_override("max_write_wait", 0, group="database")
        self.addCleanup(nova.conf.CONF.clear_override, "max_write_wait", group="database")
        db_session.dispose_engine()
        writer = sqlite3.connect(self.db_url.removeprefix("sqlite:///"), isolation_level=None)
        self.addCleanup(writer.close)
        writer.execute("BEGIN IMMEDIATE")  # holds the write lock until rollback
        try:
            self.assertEqual(
                instance_db.instance_get_by_uuid(context, instance.uuid).id, instance.id
            )
            with self.assertRaises(db_exc.DBDeadlock) as caught:
                instance_db.instance_update(context, instance.uuid, {"display_name": "renamed"})
            self.assertIn("database is locked", str(caught.exception.inner_exception))
        finally:
            writer.execute("ROLLBACK")
        renamed = instance_db.instance_update(context, instance.uuid, {"display_name": "renamed"})
        self.assertEqual(renamed.display_name, "renamed")
