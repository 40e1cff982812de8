#!/usr/bin/env python3
"""Benchmark Nova's schema migrations; prints one JSON document.

* ``sync_from_empty``: ``db sync`` of an empty database to the newest version.
* ``nullable_upgrade``: the network refactoring (version 3 -> 4, making
  ``virtual_interfaces.network_id`` nullable) on a table of ``--rows`` VIFs,
  beside a hand-written SQL baseline doing the same change on the same data
  in the same run: create-copy-swap on SQLite, ``ALTER COLUMN ... DROP NOT
  NULL`` on PostgreSQL. Every side is timed from opening its connection to
  the commit, in this warm process, and the ratio of medians is reported.
  ``baseline`` sends the hand-written SQL over the same connection path as
  Nova (SQLAlchemy engine, same driver), so the ratio measures what the
  migration machinery adds; ``driver_baseline`` sends it straight through the
  DB-API driver (sqlite3, psycopg), which also leaves out SQLAlchemy's
  connection set-up.

PostgreSQL is used when ``--postgresql-url`` (or ``NOVA_TEST_POSTGRESQL_URL``)
gives an admin URL; ``bench/run_all.sh`` starts a private server for it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid

import common  # bench/common.py, beside this script
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from nova.db import engine as db_engine
from nova.db import migration

GOAL_RATIO = 1.5
REFACTORING = 4

# The version-4 shape of virtual_interfaces, written by hand for the baseline.
SQLITE_BASELINE = [
    """CREATE TABLE virtual_interfaces_new (
        id INTEGER NOT NULL,
        address VARCHAR(255) NOT NULL,
        network_id INTEGER,
        instance_id INTEGER NOT NULL,
        created_at DATETIME,
        updated_at DATETIME,
        deleted_at DATETIME,
        deleted INTEGER DEFAULT '0' NOT NULL,
        uuid VARCHAR(36) NOT NULL,
        PRIMARY KEY (id),
        CONSTRAINT fk_virtual_interfaces_instance_id
            FOREIGN KEY(instance_id) REFERENCES instances (id),
        CONSTRAINT fk_virtual_interfaces_network_id
            FOREIGN KEY(network_id) REFERENCES networks (id),
        CONSTRAINT uniq_virtual_interfaces0address0deleted UNIQUE (address, deleted),
        CONSTRAINT uniq_virtual_interfaces0uuid UNIQUE (uuid))""",
    "INSERT INTO virtual_interfaces_new (id, address, network_id, instance_id, created_at, "
    "updated_at, deleted_at, deleted, uuid) SELECT id, address, network_id, instance_id, "
    "created_at, updated_at, deleted_at, deleted, uuid FROM virtual_interfaces",
    "DROP TABLE virtual_interfaces",
    "ALTER TABLE virtual_interfaces_new RENAME TO virtual_interfaces",
    "CREATE INDEX ix_virtual_interfaces_instance_id ON virtual_interfaces (instance_id)",
    "CREATE INDEX ix_virtual_interfaces_network_id ON virtual_interfaces (network_id)",
    "UPDATE alembic_version SET version_num = '004'",
]

POSTGRESQL_BASELINE = [
    "ALTER TABLE virtual_interfaces ALTER COLUMN network_id DROP NOT NULL",
    "UPDATE alembic_version SET version_num = '004'",
]

POPULATE_SQLITE = """
WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < :rows)
INSERT INTO virtual_interfaces (id, uuid, address, instance_id, network_id, created_at, deleted)
SELECT n, printf('%08x-0000-4000-8000-%012x', n, n),
       printf('fa:16:3e:%02x:%02x:%02x', (n >> 16) & 255, (n >> 8) & 255, n & 255),
       1 + n % :instances, 1 + n % 2, '2011-08-17 00:00:00', 0
FROM seq
"""

POPULATE_POSTGRESQL = """
INSERT INTO virtual_interfaces (id, uuid, address, instance_id, network_id, created_at, deleted)
SELECT n, md5(n::text)::uuid::text,
       format('fa:16:3e:%s:%s:%s', lpad(to_hex((n >> 16) & 255), 2, '0'),
              lpad(to_hex((n >> 8) & 255), 2, '0'), lpad(to_hex(n & 255), 2, '0')),
       1 + n % :instances, 1 + n % 2, '2011-08-17 00:00:00', 0
FROM generate_series(1, :rows) AS n
"""


def populate(url: str, rows: int, instances: int = 1000) -> None:
    """Bring an empty database to version 3 and fill it with ``rows`` VIFs."""
    migration.db_sync(REFACTORING - 1, url=url)
    engine = sa.create_engine(url)
    populate_sql = POPULATE_SQLITE if engine.dialect.name == "sqlite" else POPULATE_POSTGRESQL
    with engine.begin() as connection:
        for network_id in (1, 2):
            connection.execute(
                sa.text(
                    "INSERT INTO networks (id, uuid, label, vlan, multi_host, deleted) "
                    "VALUES (:id, :uuid, :label, :vlan, :multi_host, 0)"
                ),
                {
                    "id": network_id,
                    "uuid": str(uuid.uuid4()),
                    "label": f"net{network_id}",
                    "vlan": 100 + network_id,
                    "multi_host": False,
                },
            )
        connection.execute(
            sa.text(
                "INSERT INTO instances (id, uuid, project_id, deleted) VALUES (:id, :uuid, 'p', 0)"
            ),
            [{"id": i, "uuid": str(uuid.uuid4())} for i in range(1, instances + 1)],
        )
        connection.execute(sa.text(populate_sql), {"rows": rows, "instances": instances})
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                "VACUUM ANALYZE virtual_interfaces"
            )
        counted = connection.exec_driver_sql("SELECT COUNT(*) FROM virtual_interfaces").scalar()
    engine.dispose()
    assert counted == rows, (counted, rows)


def timed(function, *args, **kwargs) -> float:
    """Return how many seconds ``function(*args, **kwargs)`` took."""
    start = time.perf_counter()
    function(*args, **kwargs)
    return time.perf_counter() - start


def nova_upgrade(url: str) -> None:
    result = migration.db_sync(REFACTORING, url=url)
    assert result.end == REFACTORING, result


def baseline(url: str, statements: list[str]) -> None:
    """Run hand-written SQL in one transaction over Nova's connection path."""
    engine = db_engine.create_engine(url, foreign_keys=False, pooled=False)
    try:
        with db_engine.connect(engine) as connection:
            for statement in statements:
                connection.exec_driver_sql(statement)
            connection.commit()
    finally:
        engine.dispose()


def sqlite_driver_baseline(url: str) -> None:
    connection = sqlite3.connect(make_url(url).database, isolation_level=None)
    try:
        connection.execute("PRAGMA foreign_keys = OFF")
        connection.execute("BEGIN")
        for statement in SQLITE_BASELINE:
            connection.execute(statement)
        connection.execute("COMMIT")
    finally:
        connection.close()


def postgresql_driver_baseline(url: str) -> None:
    import psycopg

    parsed = make_url(url)
    with psycopg.connect(
        host=parsed.host,
        port=parsed.port,
        user=parsed.username,
        password=parsed.password or None,
        dbname=parsed.database,
    ) as connection:
        for statement in POSTGRESQL_BASELINE:
            connection.execute(statement)


def network_id_nullable(url: str) -> bool:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            columns = sa.inspect(connection).get_columns("virtual_interfaces")
    finally:
        engine.dispose()
    return next(c for c in columns if c["name"] == "network_id")["nullable"]


def summary(runs: dict[str, list[float]]) -> dict:
    medians = {kind: statistics.median(times) for kind, times in runs.items()}
    return {
        "nova_s": round(medians["nova"], 4),
        "baseline_s": round(medians["baseline"], 4),
        "driver_baseline_s": round(medians["driver_baseline"], 4),
        "ratio": round(medians["nova"] / medians["baseline"], 3),
        "ratio_to_driver_baseline": round(medians["nova"] / medians["driver_baseline"], 3),
        "runs_s": {kind: [round(t, 4) for t in times] for kind, times in runs.items()},
    }


def bench_nullable_upgrade(url: str, rows: int, repeat: int, fresh_copy) -> dict:
    """Time Nova's upgrade and both baselines ``repeat`` times each, interleaved.

    :param fresh_copy: returns ``(url, cleanup)`` of the populated database at
        version 3, ready for one run.
    """
    driver_baseline = {
        "sqlite": sqlite_driver_baseline,
        "postgresql": postgresql_driver_baseline,
    }[make_url(url).get_backend_name()]
    statements = SQLITE_BASELINE if url.startswith("sqlite") else POSTGRESQL_BASELINE
    kinds = {
        "nova": nova_upgrade,
        "baseline": lambda u: baseline(u, statements),
        "driver_baseline": driver_baseline,
    }
    runs: dict[str, list[float]] = {kind: [] for kind in kinds}
    for _ in range(repeat):
        for kind, change in kinds.items():
            run_url, cleanup = fresh_copy()
            runs[kind].append(timed(change, run_url))
            assert network_id_nullable(run_url), kind
            cleanup()
    return {"rows": rows, **summary(runs)}


def bench_sqlite(rows: int, repeat: int, workdir: str) -> dict:
    template = os.path.join(workdir, "template.sqlite")
    populate(f"sqlite:///{template}", rows)

    def fresh_copy():
        path = os.path.join(workdir, "run.sqlite")
        shutil.copyfile(template, path)
        return f"sqlite:///{path}", lambda: os.unlink(path)

    return bench_nullable_upgrade(f"sqlite:///{template}", rows, repeat, fresh_copy)


class PostgreSQLDatabase:
    def __init__(self, admin_url: str) -> None:
        self.admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self.name = f"nova_bench_{uuid.uuid4().hex[:8]}"
        with self.admin.connect() as connection:
            connection.exec_driver_sql(f"CREATE DATABASE {self.name}")
        self.url = make_url(admin_url).set(database=self.name).render_as_string(False)

    def drop(self) -> None:
        with self.admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")
        self.admin.dispose()


def bench_postgresql(admin_url: str, rows: int, repeat: int) -> dict:
    database = PostgreSQLDatabase(admin_url)
    try:
        populate(database.url, rows)

        def fresh_copy():
            # The change is undone (untimed) after each run: same data, same table.
            def restore():
                migration.db_sync(REFACTORING - 1, url=database.url)
                assert not network_id_nullable(database.url)

            return database.url, restore

        return bench_nullable_upgrade(database.url, rows, repeat, fresh_copy)
    finally:
        database.drop()


def bench_sync_from_empty(urls: dict[str, str], repeat: int) -> dict:
    results = {}
    for backend, make_url_for_run in urls.items():
        runs = []
        for _ in range(repeat):
            url, cleanup = make_url_for_run()
            try:
                runs.append(timed(migration.db_sync, url=url))
            finally:
                cleanup()
        results[backend] = {
            "median_s": round(statistics.median(runs), 4),
            "runs_s": [round(t, 4) for t in runs],
        }
    return results


def machine() -> dict:
    return common.machine(sqlite=sqlite3.sqlite_version, sqlalchemy=sa.__version__)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each SQLite kind")
    parser.add_argument(
        "--postgresql-repeat", type=int, default=11, help="runs of each PostgreSQL kind"
    )
    parser.add_argument(
        "--postgresql-url",
        default=os.environ.get("NOVA_TEST_POSTGRESQL_URL"),
        help="admin URL of a PostgreSQL server (default: $NOVA_TEST_POSTGRESQL_URL)",
    )
    args = parser.parse_args(argv)

    workdir = tempfile.mkdtemp(prefix="nova-bench-")
    try:

        def sqlite_run():
            path = os.path.join(workdir, f"empty-{uuid.uuid4().hex}.sqlite")
            return f"sqlite:///{path}", lambda: os.unlink(path)

        def postgresql_run():
            database = PostgreSQLDatabase(args.postgresql_url)
            return database.url, database.drop

        empty = {"sqlite": sqlite_run}
        if args.postgresql_url:
            empty["postgresql"] = postgresql_run
        report = {
            "benchmark": "db_migrate",
            "machine": machine(),
            "sync_from_empty": bench_sync_from_empty(empty, args.repeat),
            "nullable_upgrade": {"sqlite": bench_sqlite(args.rows, args.repeat, workdir)},
        }
        if args.postgresql_url:
            report["nullable_upgrade"]["postgresql"] = bench_postgresql(
                args.postgresql_url, args.rows, args.postgresql_repeat
            )
        ratios = [r["ratio"] for r in report["nullable_upgrade"].values()]
        report["goal"] = {"max_ratio": GOAL_RATIO, "met": all(r <= GOAL_RATIO for r in ratios)}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    json.dump(report, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
