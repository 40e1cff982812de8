"""The reads behind the API's views: one transaction each, project scoping, 404 vs empty."""

from __future__ import annotations

import datetime
import uuid

import sqlalchemy as sa
from sqlalchemy import event

from nova import context as nova_context
from nova import exception
from nova.db import flavors as flavor_db
from nova.db import instances as instance_db
from nova.db import models
from nova.db import networks as legacy_db
from nova.db import session as db_session
from nova.db import views as views_db
from nova.db import virtual_interfaces as vif_db
from tests.fixtures import databases


class ViewsAPITestCase(databases.SchemaTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.context = nova_context.RequestContext("alice", "project-a")
        self.other = nova_context.RequestContext("bob", "project-b")
        self.admin = nova_context.get_admin_context()
        self.network = legacy_db.network_create(self.admin, {"label": "net1", "vlan": 100})
        self.instance = instance_db.instance_create(
            self.context,
            {
                "project_id": "project-a",
                "user_id": "alice",
                "display_name": "vm1",
                "flavor_id": flavor_db.flavor_get_by_flavor_id(self.admin, "2").id,
                "metadata": {"role": "web", "tier": "front"},
            },
        )

    def count_transactions(self, function) -> dict:
        """Call ``function``; return how many transactions and statements SQLite ran."""
        if self.BACKEND != "sqlite":
            self.skipTest("statements are traced with sqlite3's trace callback")
        db_session.dispose_engine()  # new connections, each traced from the start
        engine = db_session.get_engine()
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

    def test_show_reads_in_one_statement(self):
        counts = self.count_transactions(
            lambda: views_db.instance_get_for_view(self.context, self.instance.uuid)
        )
        self.assertEqual(counts, {"transactions": 0, "statements": 1})
        data = views_db.instance_get_for_view(self.context, self.instance.uuid)
        (row,) = data.instances
        self.assertEqual(
            (row.uuid, row.display_name, row.flavorid), (self.instance.uuid, "vm1", "2")
        )
        self.assertEqual(data.metadata, {self.instance.id: {"role": "web", "tier": "front"}})
        self.assertIsNone(row.fault_code)

    def test_another_projects_server_is_not_found_but_admin_sees_it(self):
        with self.assertRaises(exception.InstanceNotFound):
            views_db.instance_get_for_view(self.other, self.instance.uuid)
        self.assertEqual(views_db.instance_get_all_for_view(self.other).instances, [])
        admin = views_db.instance_get_for_view(self.admin, self.instance.uuid)
        self.assertEqual(admin.instances[0].id, self.instance.id)

    def test_newest_fault_of_an_error_server_only(self):
        for message in ("first", "newest"):
            instance_db.instance_fault_create(
                self.admin, self.instance.id, {"code": 500, "message": message}
            )
        row = views_db.instance_get_for_view(self.context, self.instance.uuid).instances[0]
        self.assertIsNone(row.fault_code)  # not in ERROR: no fault shown
        instance_db.instance_update(self.admin, self.instance.uuid, {"vm_state": "error"})
        row = views_db.instance_get_for_view(self.context, self.instance.uuid).instances[0]
        self.assertEqual((row.fault_code, row.fault_message), (500, "newest"))

    def test_list_reads_a_page_in_one_transaction(self):
        for index in range(3):
            instance_db.instance_create(
                self.context,
                {"project_id": "project-a", "display_name": f"more{index}", "metadata": {"i": "x"}},
            )
        counts = self.count_transactions(lambda: views_db.instance_get_all_for_view(self.context))
        self.assertEqual(counts, {"transactions": 1, "statements": 2})
        data = views_db.instance_get_all_for_view(self.context, limit=2)
        self.assertEqual([row.display_name for row in data.instances], ["more2", "more1"])
        self.assertEqual(set(data.metadata), {row.id for row in data.instances})
        summary = views_db.instance_get_all_for_view(self.context, detail=False)
        self.assertEqual((len(summary.instances), summary.metadata), (4, {}))

    # --- changes since ---------------------------------------------------------------

    def set_times(self, instance_uuid: str, **times: datetime.datetime | None) -> None:
        """Set an instance's timestamps (``updated_at`` always: else the UPDATE stamps it)."""
        times.setdefault("updated_at", None)
        instances = models.Instance.__table__
        with db_session.get_engine().begin() as connection:
            connection.execute(
                sa.update(instances).where(instances.c.uuid == instance_uuid).values(**times)
            )

    def test_changes_since_lists_changed_and_deleted_instances(self):
        # The setUp's vm1 was created just now and never updated.
        start = models.utcnow().replace(microsecond=0) - datetime.timedelta(hours=1)
        minutes = [start - datetime.timedelta(minutes=n) for n in range(121)]
        made = {}
        for name, project, created in (
            ("old", "project-a", 120),
            ("touched", "project-a", 90),
            ("gone", "project-a", 30),
            ("long-gone", "project-a", 60),
            ("theirs", "project-b", 10),
        ):
            context = self.context if project == "project-a" else self.other
            made[name] = instance_db.instance_create(
                context, {"project_id": project, "display_name": name}
            ).uuid
            self.set_times(made[name], created_at=minutes[created])
        # Updated 0.6 s after ``start``: MariaDB keeps DATETIME in whole seconds
        # (truncating), and the listing must not miss it for that.
        self.set_times(
            made["touched"],
            created_at=minutes[90],
            updated_at=start + datetime.timedelta(microseconds=600000),
        )
        for name in ("gone", "long-gone", "theirs"):
            instance_db.instance_destroy(self.admin, made[name])
        # Deleted now but stamped long ago: deleted_at alone says it changed.
        self.set_times(made["gone"], created_at=minutes[30], updated_at=minutes[100])
        self.set_times(
            made["long-gone"],
            created_at=minutes[60],
            updated_at=minutes[50],
            deleted_at=minutes[50],
        )

        since = start + datetime.timedelta(microseconds=500000)
        changed = views_db.instance_get_all_for_view(self.context, {"changes_since": since})
        self.assertEqual(
            [(row.display_name, row.vm_state) for row in changed.instances],
            [("vm1", None), ("gone", "deleted"), ("touched", None)],
        )
        # The metadata of a deleted instance went with it; a live one keeps its own.
        self.assertEqual(changed.metadata, {self.instance.id: {"role": "web", "tier": "front"}})
        # Without changes_since: the live instances only, changed or not.
        live = views_db.instance_get_all_for_view(self.context, {})
        self.assertEqual([row.display_name for row in live.instances], ["vm1", "touched", "old"])
        # Another project's never; an admin sees every project's.
        admin = views_db.instance_get_all_for_view(self.admin, {"changes_since": since})
        self.assertEqual(
            [row.display_name for row in admin.instances], ["vm1", "theirs", "gone", "touched"]
        )
        # At or after: an instance changed at the very time given is listed.
        at_start = views_db.instance_get_all_for_view(self.context, {"changes_since": start})
        self.assertEqual(len(at_start.instances), 3)
        # Changed before the time given, in the same second: listed only where the
        # database keeps whole seconds (MySQL), which may have truncated the change.
        after_touch = start + datetime.timedelta(microseconds=700000)
        listed = views_db.instance_get_all_for_view(self.context, {"changes_since": after_touch})
        self.assertEqual(
            [row.display_name for row in listed.instances],
            ["vm1", "gone", "touched"] if self.BACKEND == "mysql" else ["vm1", "gone"],
        )
        future = start + datetime.timedelta(hours=2)
        self.assertEqual(
            views_db.instance_get_all_for_view(self.context, {"changes_since": future}).instances,
            [],
        )

    def test_changes_since_pages_after_a_deleted_marker(self):
        second = instance_db.instance_create(self.context, {"project_id": "project-a"})
        third = instance_db.instance_create(self.context, {"project_id": "project-a"})
        for number, instance in enumerate((self.instance, second, third)):
            self.set_times(instance.uuid, created_at=datetime.datetime(2030, 1, 1, 0, number))
        instance_db.instance_destroy(self.context, second.uuid)
        filters = {"changes_since": datetime.datetime(2000, 1, 1)}
        page = views_db.instance_get_all_for_view(self.context, filters, limit=2)
        self.assertEqual([row.uuid for row in page.instances], [third.uuid, second.uuid])
        rest = views_db.instance_get_all_for_view(self.context, filters, marker=second.uuid)
        self.assertEqual([row.uuid for row in rest.instances], [self.instance.uuid])
        # A deleted marker is a marker of changes-since listings only, of its project only.
        with self.assertRaises(exception.MarkerNotFound):
            views_db.instance_get_all_for_view(self.context, {}, marker=second.uuid)
        with self.assertRaises(exception.MarkerNotFound):
            views_db.instance_get_all_for_view(self.other, filters, marker=second.uuid)

    # --- virtual interfaces ----------------------------------------------------------

    def test_sorted_pages_with_nulls_regex_names_and_deleted(self):
        # Names and key names (NULL for some) in a known order; paged by marker
        # in both directions, every server exactly once, on every database.
        values = [("b-web", "k2"), ("a-db", None), ("c-web", "k1"), ("d-db", None), ("e-web", "k2")]
        for name, key_name in values:
            instance_db.instance_create(
                self.context,
                {"project_id": "project-a", "display_name": name, "key_name": key_name},
            )
        filters = {"project_id": "project-a"}

        def walk(sort, limit, **more):
            names, marker = [], None
            while True:
                page = views_db.instance_get_all_for_view(
                    self.context,
                    {**filters, **more},
                    limit=limit,
                    marker=marker,
                    sort=sort,
                    detail=False,
                ).instances
                names += [i.display_name for i in page]
                if len(page) < limit:
                    return names
                marker = page[-1].uuid

        by_name = [("display_name", "asc"), ("created_at", "asc"), ("id", "asc")]
        self.assertEqual(walk(by_name, 2), ["a-db", "b-web", "c-web", "d-db", "e-web", "vm1"])
        for direction in ("asc", "desc"):
            sort = [("key_name", direction), ("display_name", direction), ("id", direction)]
            order = walk(sort, 2)
            with_key = [n for n in order if n in ("b-web", "c-web", "e-web")]
            nulls = [n for n in order if n not in with_key]
            expected_keys = ["c-web", "b-web", "e-web"]
            if direction == "asc":  # NULLs first
                self.assertEqual(order, sorted(nulls) + expected_keys)
            else:  # NULLs last
                self.assertEqual(order, expected_keys[::-1] + sorted(nulls, reverse=True))
        self.assertEqual(walk(by_name, 10, name="-web$"), ["b-web", "c-web", "e-web"])
        self.assertEqual(walk(by_name, 10, name="^[ad]"), ["a-db", "d-db"])
        gone = views_db.instance_get_all_for_view(self.context, {**filters, "name": "^a-"})
        instance_db.instance_destroy(self.admin, gone.instances[0].uuid)
        self.assertEqual(walk(by_name, 1, deleted=True), ["a-db"])
        self.assertNotIn("a-db", walk(by_name, 10))

    def test_vifs_in_one_statement_with_their_networks(self):
        legacy = vif_db.virtual_interface_create(
            self.admin, {"instance_id": self.instance.id, "network_id": self.network.id}
        )
        external_network = str(uuid.uuid4())
        external = vif_db.virtual_interface_create(
            self.admin,
            {
                "instance_id": self.instance.id,
                "network_uuid": external_network,
                "port_id": str(uuid.uuid4()),
            },
        )
        counts = self.count_transactions(
            lambda: views_db.virtual_interface_get_all_for_view(self.context, self.instance.uuid)
        )
        # One statement, on its own: no BEGIN/COMMIT around it.
        self.assertEqual(counts, {"transactions": 0, "statements": 1})
        vifs = views_db.virtual_interface_get_all_for_view(self.context, self.instance.uuid)
        self.assertEqual(
            [tuple(vif) for vif in vifs],
            [
                (legacy.uuid, legacy.address, self.network.uuid),
                (external.uuid, external.address, external_network),
            ],
        )
        vif = views_db.virtual_interface_get_for_view(
            self.context, self.instance.uuid, external.uuid
        )
        self.assertEqual(vif.network_uuid, external_network)

    def test_server_without_vifs_is_an_empty_list_not_a_404(self):
        self.assertEqual(
            views_db.virtual_interface_get_all_for_view(self.context, self.instance.uuid), []
        )

    def test_vifs_of_another_projects_or_unknown_server_are_not_found(self):
        vif = vif_db.virtual_interface_create(
            self.admin, {"instance_id": self.instance.id, "network_id": self.network.id}
        )
        for server_id in (self.instance.uuid, str(uuid.uuid4())):
            with self.assertRaises(exception.InstanceNotFound):
                views_db.virtual_interface_get_all_for_view(self.other, server_id)
            with self.assertRaises(exception.InstanceNotFound):
                views_db.virtual_interface_get_for_view(self.other, server_id, vif.uuid)
        self.assertEqual(
            len(views_db.virtual_interface_get_all_for_view(self.admin, self.instance.uuid)), 1
        )

    def test_vif_of_another_server_is_not_found(self):
        second = instance_db.instance_create(self.context, {"project_id": "project-a"})
        vif = vif_db.virtual_interface_create(
            self.admin, {"instance_id": second.id, "network_id": self.network.id}
        )
        with self.assertRaises(exception.VirtualInterfaceNotFound):
            views_db.virtual_interface_get_for_view(self.context, self.instance.uuid, vif.uuid)

    def test_project_page_holds_only_its_servers_and_their_children(self):
        for name in ("vm2", "vm3"):
            instance_db.instance_create(
                self.context,
                {"project_id": "project-a", "display_name": name, "metadata": {"name": name}},
            )
        instance_db.instance_create(self.other, {"project_id": "project-b", "metadata": {"b": "1"}})
        filters = {"project_id": "project-a"}
        page = views_db.instance_get_all_for_view(self.context, filters, limit=2)
        self.assertEqual([i.display_name for i in page.instances], ["vm3", "vm2"])
        self.assertEqual(page.metadata, {i.id: {"name": i.display_name} for i in page.instances})
        # The same page through the general path (a filter that keeps everything).
        general = views_db.instance_get_all_for_view(
            self.context, {**filters, "host": None, "name": "vm"}, limit=2
        )
        self.assertEqual(general, page)
        everyone = views_db.instance_get_all_for_view(self.admin, {}, limit=10)
        self.assertEqual(len(everyone.instances), 4)
