"""Options of the quotas (limits per project)."""

from __future__ import annotations

from oslo_config import cfg

quota_group = cfg.OptGroup("quota", title="Quotas", help="Limits on what a project may use.")

quota_opts = [
    cfg.IntOpt(
        "metadata_items",
        default=128,
        min=-1,
        help="Metadata items a server may have (its create and the "
        "/servers/{id}/metadata calls); more is refused with 403, as Nova "
        "does. -1: no limit.",
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register the quota options on ``conf``."""
    conf.register_group(quota_group)
    conf.register_opts(quota_opts, group=quota_group)


def list_opts() -> dict:
    """Return the options of this module by group, for the sample generator."""
    return {quota_group: quota_opts}
