"""The reads behind the API's views: one transaction each, project scoping, 404 vs empty."""

from __future__ import annotations

import uuid

from sqlalchemy import event

from nova import context as nova_context
from nova import exception
from nova.db import api as db_api
from nova.db import legacy_api as legacy_db
from nova.db import views_api
from tests import databases


class ViewsAPITestCase(databases.SchemaTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.context = nova_context.RequestContext("alice", "project-a")
        self.other = nova_context.RequestContext("bob", "project-b")
        self.admin = nova_context.get_admin_context()
        self.network = legacy_db.network_create(self.admin, {"label": "net1", "vlan": 100})
        self.instance = db_api.instance_create(
            self.context,
            {
                "project_id": "project-a",
                "user_id": "alice",
                "display_name": "vm1",
                "flavor_id": db_api.flavor_get_by_flavor_id(self.admin, "2").id,
                "metadata": {"role": "web", "tier": "front"},
            },
        )

    def count_transactions(self, function) -> dict:
        """Call ``function``; return how many transactions and statements SQLite ran."""
        if self.BACKEND != "sqlite":
            self.skipTest("statements are traced with sqlite3's trace callback")
        db_api.dispose_engine()  # new connections, each traced from the start
        engine = db_api.get_engine()
        traced: list[str] = []

        @event.listens_for(engine, "connect")
        def trace(dbapi_connection, _record):
            dbapi_connection.set_trace_callback(traced.append)

        function()
        words = [sql.split()[0].upper() for sql in traced]
        return {
            "transactions": words.count("BEGIN"),
            "statements": sum(word not in ("BEGIN", "COMMIT", "ROLLBACK") for word in words),
        }

    # --- servers -------------------------------------------------------------------

    def test_show_reads_in_one_transaction(self):
        counts = self.count_transactions(
            lambda: views_api.instance_get_for_view(self.context, self.instance.uuid)
        )
        self.assertEqual(counts, {"transactions": 1, "statements": 2})
        data = views_api.instance_get_for_view(self.context, self.instance.uuid)
        (row,) = data.instances
        self.assertEqual(
            (row.uuid, row.display_name, row.flavorid), (self.instance.uuid, "vm1", "2")
        )
        self.assertEqual(data.metadata, {self.instance.id: {"role": "web", "tier": "front"}})
        self.assertIsNone(row.fault_code)

    def test_another_projects_server_is_not_found_but_admin_sees_it(self):
        with self.assertRaises(exception.InstanceNotFound):
            views_api.instance_get_for_view(self.other, self.instance.uuid)
        self.assertEqual(views_api.instance_get_all_for_view(self.other).instances, [])
        admin = views_api.instance_get_for_view(self.admin, self.instance.uuid)
        self.assertEqual(admin.instances[0].id, self.instance.id)

    def test_newest_fault_of_an_error_server_only(self):
        for message in ("first", "newest"):
            db_api.instance_fault_create(
                self.admin, self.instance.id, {"code": 500, "message": message}
            )
        row = views_api.instance_get_for_view(self.context, self.instance.uuid).instances[0]
        self.assertIsNone(row.fault_code)  # not in ERROR: no fault shown
        db_api.instance_update(self.admin, self.instance.uuid, {"vm_state": "error"})
        row = views_api.instance_get_for_view(self.context, self.instance.uuid).instances[0]
        self.assertEqual((row.fault_code, row.fault_message), (500, "newest"))

    def test_list_reads_a_page_in_one_transaction(self):
        for index in range(3):
            db_api.instance_create(
                self.context,
                {"project_id": "project-a", "display_name": f"more{index}", "metadata": {"i": "x"}},
            )
        counts = self.count_transactions(lambda: views_api.instance_get_all_for_view(self.context))
        self.assertEqual(counts, {"transactions": 1, "statements": 2})
        data = views_api.instance_get_all_for_view(self.context, limit=2)
        self.assertEqual([row.display_name for row in data.instances], ["more2", "more1"])
        self.assertEqual(set(data.metadata), {row.id for row in data.instances})
        summary = views_api.instance_get_all_for_view(self.context, detail=False)
        self.assertEqual((len(summary.instances), summary.metadata), (4, {}))

    # --- virtual interfaces ----------------------------------------------------------

    def test_vifs_in_one_statement_with_their_networks(self):
        legacy = db_api.virtual_interface_create(
            self.admin, {"instance_id": self.instance.id, "network_id": self.network.id}
        )
        external_network = str(uuid.uuid4())
        external = db_api.virtual_interface_create(
            self.admin,
            {
                "instance_id": self.instance.id,
                "network_uuid": external_network,
                "port_id": str(uuid.uuid4()),
            },
        )
        counts = self.count_transactions(
            lambda: views_api.virtual_interface_get_all_for_view(self.context, self.instance.uuid)
        )
        # One statement, on its own: no BEGIN/COMMIT around it.
        self.assertEqual(counts, {"transactions": 0, "statements": 1})
        vifs = views_api.virtual_interface_get_all_for_view(self.context, self.instance.uuid)
        self.assertEqual(
            [tuple(vif) for vif in vifs],
            [
                (legacy.uuid, legacy.address, self.network.uuid),
                (external.uuid, external.address, external_network),
            ],
        )
        vif = views_api.virtual_interface_get_for_view(
            self.context, self.instance.uuid, external.uuid
        )
        self.assertEqual(vif.network_uuid, external_network)

    def test_server_without_vifs_is_an_empty_list_not_a_404(self):
        self.assertEqual(
            views_api.virtual_interface_get_all_for_view(self.context, self.instance.uuid), []
        )

    def test_vifs_of_another_projects_or_unknown_server_are_not_found(self):
        vif = db_api.virtual_interface_create(
            self.admin, {"instance_id": self.instance.id, "network_id": self.network.id}
        )
        for server_id in (self.instance.uuid, str(uuid.uuid4())):
            with self.assertRaises(exception.InstanceNotFound):
                views_api.virtual_interface_get_all_for_view(self.other, server_id)
            with self.assertRaises(exception.InstanceNotFound):
                views_api.virtual_interface_get_for_view(self.other, server_id, vif.uuid)
        self.assertEqual(
            len(views_api.virtual_interface_get_all_for_view(self.admin, self.instance.uuid)), 1
        )

    def test_vif_of_another_server_is_not_found(self):
        second = db_api.instance_create(self.context, {"project_id": "project-a"})
        vif = db_api.virtual_interface_create(
            self.admin, {"instance_id": second.id, "network_id": self.network.id}
        )
        with self.assertRaises(exception.VirtualInterfaceNotFound):
            views_api.virtual_interface_get_for_view(self.context, self.instance.uuid, vif.uuid)

    def test_project_page_holds_only_its_servers_and_their_children(self):
        for name in ("vm2", "vm3"):
            db_api.instance_create(
                self.context,
                {"project_id": "project-a", "display_name": name, "metadata": {"name": name}},
            )
        db_api.instance_create(self.other, {"project_id": "project-b", "metadata": {"b": "1"}})
        filters = {"project_id": "project-a"}
        page = views_api.instance_get_all_for_view(self.context, filters, limit=2)
        self.assertEqual([i.display_name for i in page.instances], ["vm3", "vm2"])
        self.assertEqual(page.metadata, {i.id: {"name": i.display_name} for i in page.instances})
        # The same page through the general path (a filter that keeps everything).
        general = views_api.instance_get_all_for_view(
            self.context, {**filters, "host": None, "name": "vm"}, limit=2
        )
        self.assertEqual(general, page)
        everyone = views_api.instance_get_all_for_view(self.admin, {}, limit=10)
        self.assertEqual(len(everyone.instances), 4)
