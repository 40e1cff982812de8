"""Options of quotas: ``[quota]``, the default limits of every project (Nova's names and defaults).

A project's own limits (set with ``PUT /os-quota-sets/{project_id}``) take
precedence; ``-1`` means unlimited.
"""

from __future__ import annotations

from oslo_config import cfg

quota_group = cfg.OptGroup(
    "quota",
    title="Quota options",
    help="Default limits of every project; an admin may set other limits per project "
    "through the os-quota-sets API. -1 means unlimited.",
)

quota_opts = [
    cfg.IntOpt(
        "instances",
        default=10,
        min=-1,
        help="Servers a project may have (every live server counts, whatever its state).",
    ),
    cfg.IntOpt(
        "cores",
        default=20,
        min=-1,
        help="Virtual CPUs (the sum of the flavors' vcpus) of a project's servers.",
    ),
    cfg.IntOpt(
        "ram",
        default=50 * 1024,
        min=-1,
        help="Memory in MiB (the sum of the flavors' ram) of a project's servers.",
    ),
    cfg.IntOpt(
        "metadata_items",
        default=128,
        min=-1,
        help="Metadata items one server may carry (its create and the "
        "/servers/{id}/metadata calls: 403 over it).",
    ),
    cfg.IntOpt(
        "injected_files",
        default=5,
        min=-1,
        help="Files injected into a server (shown by os-quota-sets and /limits as "
        "maxPersonality, as Nova does).",
    ),
    cfg.IntOpt(
        "injected_file_content_bytes",
        default=10 * 1024,
        min=-1,
        help="Bytes of one injected file (shown as maxPersonalitySize).",
    ),
    cfg.IntOpt(
        "injected_file_path_length",
        default=255,
        min=-1,
        help="Characters of the path of an injected file (shown as injected_file_path_bytes).",
    ),
    cfg.IntOpt(
        "key_pairs",
        default=100,
        min=-1,
        help="Key pairs each user may have (os-keypairs; 403 over it).",
    ),
    cfg.IntOpt(
        "server_groups",
        default=10,
        min=-1,
        help="Server groups of a project (shown only: this cloud has no server groups).",
    ),
    cfg.IntOpt(
        "server_group_members",
        default=10,
        min=-1,
        help="Servers per server group (shown only: this cloud has no server groups).",
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register the quota options on ``conf``."""
    conf.register_group(quota_group)
    conf.register_opts(quota_opts, group=quota_group)


def list_opts() -> dict:
    """Return the options of this module by group, for the sample generator."""
    return {quota_group: quota_opts}
