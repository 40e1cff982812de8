"""Options of the config drive (``[DEFAULT]``): Nova's metadata on a disk of the guest."""

from __future__ import annotations

from oslo_config import cfg

configdrive_opts: list[cfg.Opt] = [
    cfg.BoolOpt(
        "force_config_drive",
        default=False,
        help="Give every guest a config drive, whatever the create request's "
        "config_drive says: an ISO9660 volume labelled config-2 with "
        "openstack/latest/meta_data.json and network_data.json (Nova's layout), "
        "attached as a read-only virtio disk. Only drivers that boot real "
        "guests (libvirt) build one.",
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register the config drive options on ``conf``."""
    conf.register_opts(configdrive_opts)


def list_opts() -> dict[str, list[cfg.Opt]]:
    """Return the options of this module by group, for the sample generator."""
    return {"DEFAULT": configdrive_opts}
