"""Options of the ``[database]`` group."""

from __future__ import annotations

from oslo_config import cfg

database_group = cfg.OptGroup(
    "database", title="Database options", help="Where Nova keeps its state."
)

database_opts = [
    cfg.StrOpt(
        "connection",
        default="sqlite:///$state_path/nova.sqlite",
        secret=True,
        help="SQLAlchemy URL of Nova's database, for example "
        "sqlite:///$state_path/nova.sqlite, "
        "postgresql+psycopg://nova:secret@db/nova or "
        "mysql+pymysql://nova:secret@db/nova?charset=utf8mb4.",
    ),
    cfg.BoolOpt(
        "connection_debug",
        default=False,
        help="Log every SQL statement (very verbose).",
    ),
    cfg.IntOpt(
        "max_pool_size",
        default=5,
        min=1,
        help="Connections kept open per process (PostgreSQL and MySQL).",
    ),
    cfg.IntOpt(
        "pool_timeout",
        default=30,
        min=1,
        help="Seconds to wait for a free pooled connection before failing.",
    ),
    cfg.FloatOpt(
        "max_write_wait",
        default=5.0,
        min=0,
        deprecated_name="sqlite_busy_timeout",
        help="Seconds a write waits, in all, for SQLite's write lock (held by another "
        "writer of this process or of another one) before it fails: the API answers "
        "503 serviceUnavailable with Retry-After, a service retries at its next turn. "
        "Reads never wait for a writer. A wait under 50 ms for this process's own "
        "writers is not counted (it would cost two statements a write). Also the "
        "embedded Quantum service's bound. "
        "PostgreSQL and MySQL apply their own lock timeouts.",
    ),
    cfg.StrOpt(
        "sqlite_synchronous",
        default="NORMAL",
        choices=[
            (
                "NORMAL",
                "sync the log at checkpoints only: after a power loss or OS crash "
                "the last transactions may be lost, but the database is never corrupted",
            ),
            (
                "FULL",
                "sync the log at every commit: committed means on disk, at a few "
                "hundred microseconds or more per write transaction",
            ),
        ],
        help="How a SQLite database in WAL mode (a file, not :memory:) syncs to disk "
        "(PRAGMA synchronous). A crash of the process loses nothing either way; "
        "only a power loss or operating system crash can take the last commits "
        "with NORMAL. Other databases ignore this.",
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register the ``[database]`` options on ``conf``."""
    conf.register_group(database_group)
    conf.register_opts(database_opts, group=database_group)


def list_opts() -> dict[cfg.OptGroup, list[cfg.Opt]]:
    """Return the options of this module by group, for the sample generator."""
    return {database_group: database_opts}
