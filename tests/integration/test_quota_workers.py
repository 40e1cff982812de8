"""The quota race across ``nova-api`` worker processes, on PostgreSQL and MariaDB.

``nova-api`` (gunicorn, three worker processes of eight threads each) on a
migrated database: 50 creates at once against a quota of 10 instances, so
creates in different processes, each on its own connection, race for the
project's quota. Exactly 10 are accepted and 10 rows exist. Servers are only
defined (``"launch": false``, ``"networks": "none"``): the race is the
API's, and nothing else needs to run (but nova-api wants the RabbitMQ of
``run_tests.sh``: it refuses ``fake://``).
"""

from __future__ import annotations

import collections
import os
import shutil
import subprocess
import tempfile
import threading
from concurrent import futures

import requests
import sqlalchemy as sa

from tests.fixtures import databases
from tests.fixtures import processes as process_fixtures

CREATES = 50
QUOTA = 10
USER = "alice:demo"
ADMIN = "admin:admin"


class QuotaWorkersChecks(process_fixtures.Waiting, databases.SchemaTestCase):
    __test__ = False  # collected through the per-backend subclasses

    def setUp(self) -> None:
        super().setUp()
        # nova-api refuses fake://; the servers are only defined, so nothing is sent.
        rabbit_url = databases.server_url("rabbitmq")
        if not rabbit_url:
            databases.skip_or_fail(self, "rabbitmq")
        self.state = tempfile.mkdtemp(prefix="nova-quota-workers-")
        self.addCleanup(shutil.rmtree, self.state, ignore_errors=True)
        port = process_fixtures.free_port()
        self.api = f"http://127.0.0.1:{port}/v2.1"
        config = os.path.join(self.state, "nova.conf")
        with open(config, "w", encoding="utf-8") as handle:
            handle.write(
                "[DEFAULT]\n"
                f"state_path = {self.state}\n"
                f"transport_url = {rabbit_url}\n"
                "osapi_compute_listen = 127.0.0.1\n"
                f"osapi_compute_listen_port = {port}\n"
                "osapi_compute_workers = 3\n"
                "[wsgi]\nthreads = 8\n"
                f"[database]\nconnection = {self.db_url}\n"
                "[network]\nbackend = quantum\n"
                f"[quantum]\nurl = http://127.0.0.1:{process_fixtures.free_port()}\n"
            )
        log_path = os.path.join(self.state, "nova-api.log")
        self.process = process_fixtures.spawn(
            [process_fixtures.command("nova-api"), "--config-file", config], log_path
        )
        self.addCleanup(self.stop)
        self.session = requests.Session()
        self.session.trust_env = False
        self.addCleanup(self.session.close)
        self.wait_for(
            "nova-api to answer",
            lambda: self.session.get(self.api, timeout=5).status_code == 200,
            60,
            state=lambda: process_fixtures.tail(log_path),
        )

    def stop(self) -> None:
        try:
            os.killpg(self.process.pid, 15)
        except ProcessLookupError:
            return
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, 9)
            self.process.wait()

    def check_processes(self) -> None:
        self.assertIsNone(self.process.poll(), "nova-api exited")

    def test_50_concurrent_creates_across_workers_against_a_quota_of_10(self):
        response = self.session.put(
            f"{self.api}/os-quota-sets/demo",
            json={"quota_set": {"instances": QUOTA}},
            headers={"X-Auth-Token": ADMIN},
            timeout=30,
        )
        self.assertEqual(response.status_code, 200, response.text)
        body = {
            "server": {
                "name": "race",
                "imageRef": "cirros",
                "flavorRef": "1",
                "networks": "none",
                "launch": False,
            }
        }
        barrier = threading.Barrier(CREATES)

        def send(_index: int) -> requests.Response:
            with requests.Session() as session:
                session.trust_env = False
                barrier.wait(timeout=60)
                return session.post(
                    f"{self.api}/servers", json=body, headers={"X-Auth-Token": USER}, timeout=60
                )

        with futures.ThreadPoolExecutor(max_workers=CREATES) as pool:
            responses = list(pool.map(send, range(CREATES)))
        statuses = collections.Counter(r.status_code for r in responses)
        self.assertEqual(statuses, {202: QUOTA, 403: CREATES - QUOTA}, responses[-1].text)
        engine = sa.create_engine(self.db_url)
        self.addCleanup(engine.dispose)
        with engine.connect() as connection:
            rows = connection.execute(sa.text("SELECT COUNT(*) FROM instances")).scalar()
        self.assertEqual(rows, QUOTA)


class TestQuotaWorkersPostgreSQL(QuotaWorkersChecks):
    __test__ = True
    BACKEND = "postgresql"


class TestQuotaWorkersMySQL(QuotaWorkersChecks):
    __test__ = True
    BACKEND = "mysql"
