"""The legacy (nova-network) backend: fixed IP allocation, flat and VLAN managers.

``FixedIpAllocationTestCase`` is the database-level part; it runs on SQLite
here and on PostgreSQL and MySQL in tests/integration/test_legacy_network.py.
"""

from __future__ import annotations

import collections
import threading
import uuid
from unittest import mock

import sqlalchemy as sa
from oslo_db import api as oslo_db_api

import nova.conf
from nova import context as nova_context
from nova import exception
from nova.db import instances as instance_db
from nova.db import networks as legacy_db
from nova.db import session as db_session
from nova.db import virtual_interfaces as vif_db
from nova.network import api as network_api
from nova.network import model
from nova.network.legacy import api as legacy_api
from tests.fixtures import databases

ADMIN = nova_context.get_admin_context()


def create_network(cidr: str, **kwargs):
    kwargs.setdefault("label", f"net-{cidr}")
    kwargs.setdefault("bridge", "br100")
    return legacy_api.create_network(ADMIN, cidr=cidr, **kwargs)


def fixed_ip_rows(network_id: int | None = None) -> list[sa.Row]:
    """Return the live fixed_ips rows (of one network), by id, straight from SQL."""
    query = "SELECT * FROM fixed_ips WHERE deleted = 0"
    if network_id is not None:
        query += f" AND network_id = {int(network_id)}"
    with db_session.get_engine().connect() as connection:
        return connection.execute(sa.text(query + " ORDER BY id")).all()


def allocated_addresses(network_id: int | None = None) -> list[str]:
    return [row.address for row in fixed_ip_rows(network_id) if row.allocated]


def live_vifs(instance_id: int) -> list[sa.Row]:
    with db_session.get_engine().connect() as connection:
        return connection.execute(
            sa.text(
                "SELECT * FROM virtual_interfaces WHERE instance_id = :id AND deleted = 0 "
                "ORDER BY id"
            ),
            {"id": instance_id},
        ).all()


class FixedIpAllocationTestCase(databases.SchemaTestCase):
    """The DB API of networks and fixed IPs; the allocation must be atomic."""

    def setUp(self) -> None:
        super().setUp()
        self.network = create_network("10.0.0.0/29")  # .1 gateway, .2-.6 free
        self.instance = instance_db.instance_create(ADMIN, {"project_id": "project-a"})

    def new_vif(self, network=None, instance=None):
        return vif_db.virtual_interface_create(
            ADMIN,
            {
                "instance_id": (instance or self.instance).id,
                "network_id": (network or self.network).id,
            },
        )

    def allocate(self, network=None, instance=None):
        network = network or self.network
        instance = instance or self.instance
        vif = self.new_vif(network, instance)
        return legacy_db.fixed_ip_associate_pool(ADMIN, network.id, instance.id, vif.id), vif

    def test_create_writes_one_row_per_address_with_reserved_ones(self):
        rows = fixed_ip_rows(self.network.id)
        self.assertEqual([row.address for row in rows], [f"10.0.0.{i}" for i in range(8)])
        self.assertEqual(
            [row.address for row in rows if row.reserved], ["10.0.0.0", "10.0.0.1", "10.0.0.7"]
        )
        self.assertFalse(any(row.allocated for row in rows))
        self.assertEqual(
            (self.network.gateway, self.network.broadcast, self.network.netmask),
            ("10.0.0.1", "10.0.0.7", "255.255.255.248"),
        )

    def test_bulk_create_for_a_network_without_rows(self):
        bare = legacy_db.network_create(
            ADMIN, {"label": "bare", "cidr": "10.9.0.0/30", "gateway": "10.9.0.2"}
        )
        self.assertEqual(legacy_db.fixed_ip_bulk_create(ADMIN, bare.id), 4)
        rows = fixed_ip_rows(bare.id)
        self.assertEqual([row.address for row in rows if not row.reserved], ["10.9.0.1"])
        with self.assertRaises(exception.NetworkNotFound):
            legacy_db.fixed_ip_bulk_create(ADMIN, 9999)

    def test_pool_gives_the_lowest_free_address_then_runs_out(self):
        addresses = [self.allocate()[0].address for _ in range(5)]
        self.assertEqual(addresses, [f"10.0.0.{i}" for i in range(2, 7)])
        vif = self.new_vif()
        with self.assertRaises(exception.NoMoreFixedIps):
            legacy_db.fixed_ip_associate_pool(ADMIN, self.network.id, self.instance.id, vif.id)
        self.assertEqual(len(allocated_addresses(self.network.id)), 5)

    def test_pool_links_instance_and_vif(self):
        fixed_ip, vif = self.allocate()
        self.assertTrue(fixed_ip.allocated)
        self.assertEqual(
            (fixed_ip.instance_id, fixed_ip.virtual_interface_id), (self.instance.id, vif.id)
        )
        self.assertEqual(legacy_db.fixed_ip_get_by_address(ADMIN, fixed_ip.address).id, fixed_ip.id)

    def test_specific_address(self):
        vif = self.new_vif()
        fixed_ip = legacy_db.fixed_ip_associate(
            ADMIN, "10.0.0.5", self.network.id, self.instance.id, vif.id
        )
        self.assertEqual((fixed_ip.address, fixed_ip.virtual_interface_id), ("10.0.0.5", vif.id))
        self.assertEqual(allocated_addresses(), ["10.0.0.5"])
        with self.assertRaises(exception.FixedIpAlreadyInUse):
            legacy_db.fixed_ip_associate(ADMIN, "10.0.0.5", self.network.id, self.instance.id)
        # The pool skips it.
        self.assertEqual(
            [self.allocate()[0].address for _ in range(4)],
            ["10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.6"],
        )

    def test_specific_address_reserved_or_foreign(self):
        with self.assertRaises(exception.FixedIpAlreadyInUse):
            legacy_db.fixed_ip_associate(ADMIN, "10.0.0.1", self.network.id, self.instance.id)
        with self.assertRaises(exception.Invalid):
            legacy_db.fixed_ip_associate(ADMIN, "10.0.1.5", self.network.id, self.instance.id)
        self.assertEqual(allocated_addresses(), [])

    def test_release_by_instance_and_by_vif(self):
        other = instance_db.instance_create(ADMIN, {"project_id": "project-b"})
        kept, kept_vif = self.allocate(instance=other)
        first, vif = self.allocate()
        second, _ = self.allocate()

        self.assertEqual(legacy_db.fixed_ip_disassociate_by_virtual_interface(ADMIN, vif.id), 1)
        self.assertEqual(
            [ip.address for ip in legacy_db.fixed_ip_get_by_instance(ADMIN, self.instance.id)],
            [second.address],
        )
        self.assertEqual(
            legacy_db.fixed_ip_disassociate_all_by_instance(ADMIN, self.instance.id), 1
        )
        self.assertEqual(
            legacy_db.fixed_ip_disassociate_all_by_instance(ADMIN, self.instance.id), 0
        )
        self.assertEqual(allocated_addresses(), [kept.address])
        freed = [row for row in fixed_ip_rows() if row.address == first.address][0]
        self.assertEqual((freed.instance_id, freed.virtual_interface_id), (None, None))
        # Freed addresses are handed out again, lowest first.
        self.assertEqual(self.allocate()[0].address, first.address)

    def test_instance_addresses_are_scoped_to_the_project(self):
        fixed_ip, _ = self.allocate()
        own = nova_context.RequestContext("alice", "project-a")
        stranger = nova_context.RequestContext("bob", "project-b")
        self.assertEqual(
            [ip.address for ip in legacy_db.fixed_ip_get_by_instance(own, self.instance.id)],
            [fixed_ip.address],
        )
        self.assertEqual(legacy_db.fixed_ip_get_by_instance(stranger, self.instance.id), [])
        self.assertEqual(
            legacy_db.fixed_ip_disassociate_all_by_instance(stranger, self.instance.id), 0
        )
        self.assertEqual(allocated_addresses(), [fixed_ip.address])

    def test_delete_refused_while_allocated_then_allowed(self):
        self.allocate()
        with self.assertRaises(exception.Conflict) as caught:
            legacy_db.network_delete(ADMIN, self.network.uuid)
        self.assertIn("1 allocated fixed IP", caught.exception.format_message())
        self.assertEqual(len(fixed_ip_rows(self.network.id)), 8)  # rolled back

        legacy_db.fixed_ip_disassociate_all_by_instance(ADMIN, self.instance.id)
        legacy_db.network_delete(ADMIN, self.network.uuid)
        self.assertEqual(fixed_ip_rows(self.network.id), [])
        self.assertEqual(legacy_db.network_get_all(ADMIN), [])
        with self.assertRaises(exception.NetworkNotFound):
            legacy_db.network_delete(ADMIN, self.network.uuid)
        # The range can be created again.
        again = create_network("10.0.0.0/29")
        self.assertEqual(len(fixed_ip_rows(again.id)), 8)

    def test_duplicate_vlan_is_a_conflict_and_writes_nothing(self):
        legacy_db.network_create_with_fixed_ips(ADMIN, {"cidr": "10.1.0.0/30", "vlan": 100})
        with self.assertRaises(exception.Conflict):
            legacy_db.network_create_with_fixed_ips(ADMIN, {"cidr": "10.2.0.0/30", "vlan": 100})
        self.assertEqual(len(legacy_db.network_get_all(ADMIN)), 2)
        self.assertFalse([row for row in fixed_ip_rows() if row.address.startswith("10.2.")])

    def test_associate_vlan_networks_with_projects(self):
        high = create_network("10.1.0.0/30", vlan=200)
        low = create_network("10.2.0.0/30", vlan=100)

        self.assertEqual(legacy_db.network_associate(ADMIN, "project-a").uuid, low.uuid)
        self.assertEqual(legacy_db.network_associate(ADMIN, "project-b").uuid, high.uuid)
        with self.assertRaises(exception.Conflict):
            legacy_db.network_associate(ADMIN, "project-c")
        # Asking for a network the project has is a no-op; another's is refused.
        self.assertEqual(legacy_db.network_associate(ADMIN, "project-a", low.uuid).uuid, low.uuid)
        with self.assertRaises(exception.Conflict):
            legacy_db.network_associate(ADMIN, "project-c", low.uuid)
        with self.assertRaises(exception.NetworkNotFound):
            legacy_db.network_associate(ADMIN, "project-c", str(uuid.uuid4()))
        self.assertEqual(
            [n.uuid for n in legacy_db.network_get_all_by_project(ADMIN, "project-a")], [low.uuid]
        )
        # The flat network of setUp has no project and no VLAN.
        self.assertEqual(
            [n.uuid for n in legacy_db.network_get_all_by_project(ADMIN, None)], [self.network.uuid]
        )

    # --- concurrency -----------------------------------------------------------

    THREADS = 8
    PER_THREAD = 40

    def run_threads(self, target) -> list[BaseException]:
        """Run ``target(index)`` in THREADS threads started together; return their errors."""
        barrier = threading.Barrier(self.THREADS)
        errors: list[BaseException] = []

        def run(index: int) -> None:
            try:
                barrier.wait(timeout=60)
                target(index)
            except BaseException as exc:  # noqa: BLE001 - reported by the test
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(i,)) for i in range(self.THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
        self.assertFalse(any(thread.is_alive() for thread in threads), "a thread hung")
        return errors

    def test_concurrent_pool_allocations_never_share_an_address(self):
        network = create_network("10.20.0.0/24")  # 253 free for 320 attempts
        free = 256 - 3
        instances = [
            instance_db.instance_create(ADMIN, {"project_id": "project-a"})
            for _ in range(self.THREADS)
        ]
        vifs = [
            [self.new_vif(network, instance) for _ in range(self.PER_THREAD)]
            for instance in instances
        ]
        given: list[list[tuple[int, int, str]]] = [[] for _ in range(self.THREADS)]
        exhausted = collections.Counter()

        def allocate(index: int) -> None:
            for vif in vifs[index]:
                try:
                    fixed_ip = legacy_db.fixed_ip_associate_pool(
                        ADMIN, network.id, instances[index].id, vif.id
                    )
                except exception.NoMoreFixedIps:
                    exhausted[index] += 1
                else:
                    given[index].append((fixed_ip.id, vif.id, fixed_ip.address))

        self.assertEqual(self.run_threads(allocate), [])

        results = [item for per_thread in given for item in per_thread]
        addresses = [address for _, _, address in results]
        self.assertEqual(len(addresses), len(set(addresses)), "an address was given twice")
        self.assertEqual(len(results), free)
        self.assertEqual(sum(exhausted.values()), self.THREADS * self.PER_THREAD - free)
        # The database agrees with what the callers were told.
        rows = {row.id: row for row in fixed_ip_rows(network.id)}
        allocated = {row_id for row_id, row in rows.items() if row.allocated}
        self.assertEqual(allocated, {row_id for row_id, _, _ in results})
        for index, per_thread in enumerate(given):
            for row_id, vif_id, address in per_thread:
                row = rows[row_id]
                self.assertEqual(
                    (row.address, row.virtual_interface_id, row.instance_id),
                    (address, vif_id, instances[index].id),
                )
        self.assertFalse(any(row.allocated for row in rows.values() if row.reserved))

    def test_concurrent_requests_for_one_address_have_one_winner(self):
        network = create_network("10.30.0.0/29")
        winners, losers = [], []

        def request(index: int) -> None:
            try:
                legacy_db.fixed_ip_associate(ADMIN, "10.30.0.4", network.id, self.instance.id)
                winners.append(index)
            except exception.FixedIpAlreadyInUse:
                losers.append(index)

        self.assertEqual(self.run_threads(request), [])
        self.assertEqual((len(winners), len(losers)), (1, self.THREADS - 1))
        self.assertEqual(allocated_addresses(network.id), ["10.30.0.4"])

    def test_lost_race_is_retried(self):
        """A claim that comes back empty while addresses look free is tried again."""
        real_claim = legacy_db._claim_free_fixed_ip
        calls = []

        def flaky(session, network_id, values):
            calls.append(network_id)
            if len(calls) <= 2:
                return None  # lost the race
            return real_claim(session, network_id, values)

        vif = self.new_vif()
        with mock.patch.object(legacy_db, "_claim_free_fixed_ip", side_effect=flaky) as claim:
            fixed_ip = legacy_db.fixed_ip_associate_pool(
                ADMIN, self.network.id, self.instance.id, vif.id
            )
        self.assertEqual(claim.call_count, 3)
        self.assertEqual((fixed_ip.address, fixed_ip.virtual_interface_id), ("10.0.0.2", vif.id))

    def test_gives_up_after_max_attempts(self):
        vif = self.new_vif()
        with (
            mock.patch.object(legacy_db, "_claim_free_fixed_ip", return_value=None) as claim,
            mock.patch.object(oslo_db_api.time, "sleep"),  # wrap_db_retry's pauses
        ):
            with self.assertRaises(exception.Conflict):
                legacy_db.fixed_ip_associate_pool(ADMIN, self.network.id, self.instance.id, vif.id)
        self.assertEqual(claim.call_count, legacy_db.ALLOCATE_ATTEMPTS)
        self.assertEqual(allocated_addresses(), [])


class LegacyTestCase(databases.SchemaTestCase):
    MANAGER = "flat"

    def setUp(self) -> None:
        super().setUp()
        nova.conf.CONF.set_override("legacy_manager", self.MANAGER, group="network")
        self.addCleanup(nova.conf.CONF.clear_override, "legacy_manager", group="network")
        self.api = network_api.get_api("legacy")
        self.context = nova_context.RequestContext("alice", "project-a")
        self.instance = self.new_instance()

    def new_instance(self, project_id: str = "project-a"):
        return instance_db.instance_create(ADMIN, {"project_id": project_id, "user_id": "alice"})

    def request(self, *networks, fixed_ip=None, port_id=None):
        return [
            model.RequestedNetwork(
                network_id=n.uuid if n else None, fixed_ip=fixed_ip, port_id=port_id
            )
            for n in networks
        ]

    def allocate_nw_info(self, context, instance, requested):
        """Allocate; return the network info, whose VIFs are the rows allocation made."""
        rows = self.api.allocate_for_instance(context, instance, requested)
        info = self.api.get_instance_nw_info(context, instance)
        self.assertEqual([row.uuid for row in rows], [vif.id for vif in info])
        return info

    def assert_nothing_allocated(self, instance=None):
        instance = instance or self.instance
        self.assertEqual(live_vifs(instance.id), [])
        self.assertEqual(
            [row.address for row in fixed_ip_rows() if row.instance_id == instance.id], []
        )


class FlatManagerTestCase(LegacyTestCase):
    MANAGER = "flat"

    def setUp(self) -> None:
        super().setUp()
        self.net1 = create_network("10.0.0.0/24", label="public", bridge_interface="eth0")
        self.net2 = create_network("10.1.0.0/29", label="private", bridge="br101")
        self.owned = create_network("10.2.0.0/29", label="owned", project_id="project-a")

    def test_backend_is_registered_and_reads_the_manager_option(self):
        self.assertIsInstance(self.api, legacy_api.LegacyAPI)
        self.assertEqual(self.api.manager, "flat")

    def test_default_request_uses_every_shared_network_in_order(self):
        info = self.allocate_nw_info(self.context, self.instance, None)
        self.assertEqual([vif.network.id for vif in info], [self.net1.uuid, self.net2.uuid])
        self.assertEqual([vif.fixed_ips for vif in info], [("10.0.0.2",), ("10.1.0.2",)])
        vifs = live_vifs(self.instance.id)
        self.assertEqual([vif.uuid for vif in vifs], [vif.id for vif in info])
        self.assertEqual([vif.network_id for vif in vifs], [self.net1.id, self.net2.id])
        rows = {row.virtual_interface_id: row for row in fixed_ip_rows() if row.allocated}
        self.assertEqual(
            [(rows[vif.id].address, rows[vif.id].instance_id) for vif in vifs],
            [("10.0.0.2", self.instance.id), ("10.1.0.2", self.instance.id)],
        )

    def test_requested_order_and_fixed_ip(self):
        requested = [
            model.RequestedNetwork(network_id=self.net2.uuid),
            model.RequestedNetwork(network_id=self.net1.uuid, fixed_ip="10.0.0.77"),
        ]
        self.api.validate_networks(self.context, requested, 1)
        info = self.allocate_nw_info(self.context, self.instance, requested)
        self.assertEqual([vif.network.label for vif in info], ["private", "public"])
        self.assertEqual([vif.fixed_ips for vif in info], [("10.1.0.2",), ("10.0.0.77",)])
        self.assertEqual(self.api.get_instance_nw_info(self.context, self.instance), info)

    def test_empty_request_means_no_nic(self):
        self.api.validate_networks(self.context, [], 1)
        self.assertEqual(self.api.allocate_for_instance(self.context, self.instance, []), [])
        self.assert_nothing_allocated()

    def test_nw_info_fields_and_configuration(self):
        self.api.allocate_for_instance(self.context, self.instance, None)
        first, second = self.api.get_instance_nw_info(self.context, self.instance)
        self.assertRegex(first.address, r"^fa:16:3e(:[0-9a-f]{2}){3}$")
        self.assertEqual(
            first.network,
            model.Network(
                id=self.net1.uuid,
                label="public",
                bridge="br100",
                bridge_interface="eth0",
                vlan=None,
                cidr="10.0.0.0/24",
                gateway="10.0.0.1",
            ),
        )
        self.assertEqual(
            (first.network.netmask, first.network.network_address), ("255.255.255.0", "10.0.0.0")
        )
        self.assertEqual(
            first.configuration,
            {"vif_type": "bridge", "bridge": "br100", "bridge_interface": "eth0"},
        )
        self.assertEqual(first.vif_type, model.VIF_TYPE_BRIDGE)
        self.assertEqual(second.configuration, {"vif_type": "bridge", "bridge": "br101"})
        self.assertIsNone(first.port_id)
        self.assertEqual(
            self.api.bind_for_host(self.context, self.instance, "host1"), [first, second]
        )

    def test_nw_info_skips_vifs_of_external_ports(self):
        vif_db.virtual_interface_create(
            ADMIN, {"instance_id": self.instance.id, "port_id": str(uuid.uuid4())}
        )
        info = self.allocate_nw_info(self.context, self.instance, self.request(self.net2))
        self.assertEqual([vif.network.id for vif in info], [self.net2.uuid])

    def test_validation_errors(self):
        unknown = str(uuid.uuid4())
        cases = [
            ([model.RequestedNetwork(port_id=str(uuid.uuid4()))], exception.Invalid, "port_id"),
            (
                [model.RequestedNetwork(network_id=self.net1.uuid, port_id=str(uuid.uuid4()))],
                exception.Invalid,
                "has no ports",
            ),
            ([model.RequestedNetwork()], exception.Invalid, "network uuid is required"),
            (self.request(self.net1, self.net2, self.net1), exception.Invalid, "more than once"),
            ([model.RequestedNetwork(network_id=unknown)], exception.NetworkNotFound, unknown),
            # Flat mode: a network with a project is not a shared one.
            (self.request(self.owned), exception.NetworkNotFound, self.owned.uuid),
            (self.request(self.net1, fixed_ip="10.9.0.5"), exception.Invalid, "not in network"),
            (self.request(self.net1, fixed_ip="10.0.0.300"), exception.Invalid, "not an IPv4"),
            (self.request(self.net1, fixed_ip="10.0.0.1"), exception.Invalid, "reserved"),
            (self.request(self.net1, fixed_ip="10.0.0.255"), exception.Invalid, "reserved"),
        ]
        for requested, error, text in cases:
            with self.subTest(requested=requested):
                with self.assertRaises(error) as caught:
                    self.api.validate_networks(self.context, requested, 1)
                self.assertIn(text, caught.exception.format_message())
                with self.assertRaises(error):
                    self.api.allocate_for_instance(self.context, self.instance, requested)
                self.assert_nothing_allocated()

    def test_fixed_ip_in_use_and_max_count(self):
        other = self.new_instance()
        self.api.allocate_for_instance(
            self.context, other, self.request(self.net1, fixed_ip="10.0.0.9")
        )
        with self.assertRaises(exception.FixedIpAlreadyInUse):
            self.api.validate_networks(
                self.context, self.request(self.net1, fixed_ip="10.0.0.9"), 1
            )
        with self.assertRaises(exception.Invalid) as caught:
            self.api.validate_networks(
                self.context, self.request(self.net1, fixed_ip="10.0.0.10"), 2
            )
        self.assertIn("one server only", caught.exception.format_message())
        self.api.validate_networks(self.context, self.request(self.net1, fixed_ip="10.0.0.10"), 1)

    def test_no_network_at_all(self):
        for network in (self.net1, self.net2):
            legacy_api.delete_network(ADMIN, network.uuid)
        with self.assertRaises(exception.Invalid) as caught:
            self.api.validate_networks(self.context, None, 1)
        self.assertIn("no legacy (flat) network", caught.exception.format_message())

    def test_rollback_when_second_network_is_full(self):
        full = create_network("10.3.0.0/30", label="tiny")  # one free address
        self.api.allocate_for_instance(self.context, self.new_instance(), self.request(full))

        with self.assertRaises(exception.NoMoreFixedIps):
            self.api.allocate_for_instance(
                self.context, self.instance, self.request(self.net1, full)
            )

        self.assert_nothing_allocated()
        self.assertEqual(allocated_addresses(self.net1.id), [])
        self.assertEqual(self.api.get_instance_nw_info(self.context, self.instance), [])
        # The first network's address is free for the next instance.
        info = self.allocate_nw_info(self.context, self.instance, self.request(self.net1))
        self.assertEqual(info[0].fixed_ips, ("10.0.0.2",))

    def test_rollback_when_requested_address_was_taken_meanwhile(self):
        requested = self.request(self.net2) + self.request(self.net1, fixed_ip="10.0.0.50")
        self.api.validate_networks(self.context, requested, 1)
        self.api.allocate_for_instance(
            self.context, self.new_instance(), self.request(self.net1, fixed_ip="10.0.0.50")
        )
        with self.assertRaises(exception.FixedIpAlreadyInUse):
            self.api.allocate_for_instance(self.context, self.instance, requested)
        self.assert_nothing_allocated()
        self.assertEqual(allocated_addresses(self.net2.id), [])

    def test_rollback_when_a_vif_cannot_be_created(self):
        real_create = vif_db.virtual_interface_create
        calls = []

        def failing_second(context, values):
            calls.append(values)
            if len(calls) == 2:
                raise exception.VirtualInterfaceCreateFailed(instance_id=1, attempts=10)
            return real_create(context, values)

        with mock.patch.object(vif_db, "virtual_interface_create", side_effect=failing_second):
            with self.assertRaises(exception.VirtualInterfaceCreateFailed):
                self.api.allocate_for_instance(self.context, self.instance, None)
        self.assert_nothing_allocated()
        self.assertEqual(allocated_addresses(), [])

    def test_deallocate_releases_and_tolerates_repeats(self):
        self.api.allocate_for_instance(self.context, self.instance, None)
        other = self.new_instance()
        kept = self.allocate_nw_info(self.context, other, self.request(self.net1))

        self.api.deallocate_for_instance(self.context, self.instance)
        self.api.deallocate_for_instance(self.context, self.instance)

        self.assert_nothing_allocated()
        self.assertEqual(self.api.get_instance_nw_info(self.context, self.instance), [])
        self.assertEqual(allocated_addresses(), list(kept[0].fixed_ips))
        self.assertEqual(self.api.get_instance_nw_info(self.context, other), kept)
        with db_session.get_engine().connect() as connection:
            deleted = connection.execute(
                sa.text(
                    "SELECT count(*) FROM virtual_interfaces WHERE instance_id = :id "
                    "AND deleted = id"
                ),
                {"id": self.instance.id},
            ).scalar()
        self.assertEqual(deleted, 2)
        # The networks can now be deleted except the one still in use.
        legacy_api.delete_network(ADMIN, self.net2.uuid)
        with self.assertRaises(exception.Conflict):
            legacy_api.delete_network(ADMIN, self.net1.uuid)


class VlanManagerTestCase(LegacyTestCase):
    MANAGER = "vlan"

    def setUp(self) -> None:
        super().setUp()
        self.own = create_network(
            "10.10.0.0/24",
            label="a-net",
            vlan=100,
            bridge="br100",
            bridge_interface="eth1",
            project_id="project-a",
        )
        self.foreign = create_network(
            "10.11.0.0/24", label="b-net", vlan=101, bridge="br101", project_id="project-b"
        )

    def test_default_request_uses_the_projects_network(self):
        info = self.allocate_nw_info(self.context, self.instance, None)
        self.assertEqual([vif.network.id for vif in info], [self.own.uuid])
        vif = info[0]
        self.assertEqual(vif.fixed_ips, ("10.10.0.2",))
        self.assertEqual(
            (vif.network.vlan, vif.network.bridge, vif.network.bridge_interface),
            (100, "br100", "eth1"),
        )
        self.assertEqual(
            vif.configuration,
            {"vif_type": "bridge", "bridge": "br100", "vlan": "100", "bridge_interface": "eth1"},
        )

    def test_another_projects_network_is_not_found(self):
        with self.assertRaises(exception.NetworkNotFound):
            self.api.validate_networks(self.context, self.request(self.foreign), 1)
        with self.assertRaises(exception.NetworkNotFound):
            self.api.allocate_for_instance(self.context, self.instance, self.request(self.foreign))
        self.assert_nothing_allocated()

    def test_project_without_network_gets_a_free_vlan_network(self):
        free_high = create_network("10.12.0.0/24", label="free-1", vlan=300, bridge="br300")
        free_low = create_network("10.13.0.0/24", label="free-2", vlan=200, bridge="br200")
        context = nova_context.RequestContext("carol", "project-c")
        instance = self.new_instance("project-c")

        self.api.validate_networks(context, None, 1)
        # Validation writes nothing.
        self.assertEqual(legacy_db.network_get_all_by_project(ADMIN, "project-c"), [])

        info = self.allocate_nw_info(context, instance, None)
        self.assertEqual([vif.network.id for vif in info], [free_low.uuid])
        self.assertEqual(info[0].configuration["vlan"], "200")
        self.assertEqual(
            [n.uuid for n in legacy_db.network_get_all_by_project(ADMIN, "project-c")],
            [free_low.uuid],
        )
        # The next instance of the project uses the same network.
        again = self.allocate_nw_info(context, self.new_instance("project-c"), None)
        self.assertEqual(again[0].network.id, free_low.uuid)

        self.api.allocate_for_instance(
            nova_context.RequestContext("dave", "project-d"), self.new_instance("project-d"), None
        )
        self.assertEqual(
            legacy_db.network_get_all_by_project(ADMIN, "project-d")[0].uuid, free_high.uuid
        )
        # None left for a fifth project.
        with self.assertRaises(exception.Invalid):
            self.api.validate_networks(nova_context.RequestContext("e", "project-e"), None, 1)

    def test_deallocate(self):
        self.api.allocate_for_instance(self.context, self.instance, None)
        self.api.deallocate_for_instance(self.context, self.instance)
        self.api.deallocate_for_instance(self.context, self.instance)
        self.assert_nothing_allocated()
        self.assertEqual(allocated_addresses(), [])


class CreateNetworkTestCase(databases.SchemaTestCase):
    """``create_network``: what nova-manage network create checks."""

    def test_defaults_and_reserved_addresses(self):
        network = create_network("192.168.5.0/24", dns1="8.8.8.8")
        self.assertEqual(
            (network.gateway, network.broadcast, network.netmask, network.dns1),
            ("192.168.5.1", "192.168.5.255", "255.255.255.0", "8.8.8.8"),
        )
        rows = fixed_ip_rows(network.id)
        self.assertEqual(len(rows), 256)
        self.assertEqual(
            [row.address for row in rows if row.reserved],
            ["192.168.5.0", "192.168.5.1", "192.168.5.255"],
        )

    def test_given_gateway_is_reserved_instead_of_the_first_address(self):
        network = create_network("192.168.6.0/29", gateway="192.168.6.6")
        rows = fixed_ip_rows(network.id)
        self.assertEqual(
            [row.address for row in rows if row.reserved],
            ["192.168.6.0", "192.168.6.6", "192.168.6.7"],
        )

    def test_invalid_input_writes_nothing(self):
        create_network("10.0.0.0/20", vlan=100)
        cases = [
            ({"cidr": "10.300.0.0/24"}, exception.Invalid, "Invalid CIDR"),
            ({"cidr": "10.1.0.1/24"}, exception.Invalid, "has host bits set"),
            ({"cidr": "10.1.0.0"}, exception.Invalid, "prefix length is required"),
            ({"cidr": "10.1.0.0/31"}, exception.Invalid, "too small"),
            ({"cidr": "10.128.0.0/15"}, exception.Invalid, "too large"),
            ({"cidr": "10.0.8.0/24"}, exception.Conflict, "overlaps 10.0.0.0/20"),
            ({"cidr": "10.1.0.0/24", "vlan": 100}, exception.Conflict, "VLAN 100 is already"),
            ({"cidr": "10.1.0.0/24", "vlan": 5000}, exception.Invalid, "Invalid VLAN"),
            ({"cidr": "10.1.0.0/24", "gateway": "10.2.0.1"}, exception.Invalid, "not a host"),
            ({"cidr": "10.1.0.0/24", "gateway": "10.1.0.255"}, exception.Invalid, "not a host"),
            ({"cidr": "10.1.0.0/24", "bridge": "br-much-too-long"}, exception.Invalid, "bridge"),
            ({"cidr": "10.1.0.0/24", "dns1": "dns.example"}, exception.Invalid, "dns1"),
            ({"cidr": "10.1.0.0/24", "label": " "}, exception.Invalid, "label"),
        ]
        for kwargs, error, text in cases:
            with self.subTest(**kwargs):
                with self.assertRaises(error) as caught:
                    create_network(**kwargs)
                self.assertIn(text, caught.exception.format_message())
        self.assertEqual(len(legacy_db.network_get_all(ADMIN)), 1)
        self.assertEqual(len(fixed_ip_rows()), 4096)
