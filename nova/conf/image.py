"""Options of ``[image]`` (which image service, the per-host cache) and ``[glance]``."""

from __future__ import annotations

from oslo_config import cfg

image_group = cfg.OptGroup(
    "image",
    title="Images",
    help="Where server images come from (imageRef) and where hosts cache their bits.",
)
glance_group = cfg.OptGroup("glance", title="Glance", help="A Glance v2 image service.")

image_opts: list[cfg.Opt] = [
    cfg.StrOpt(
        "backend",
        default="auto",
        choices=[
            ("auto", "glance when [glance] api_servers is set, else none"),
            (
                "glance",
                "a Glance v2 service ([glance] options; with keystone and no "
                "api_servers, the image endpoint of the caller's service catalog)",
            ),
            (
                "local",
                "this cloud's own image store in [image] local_store_path, "
                "filled by 'nova-manage image import'",
            ),
            (
                "none",
                "no image service: imageRef is taken as given, never checked "
                "(the embedded default; nothing boots from it)",
            ),
        ],
        help="Image service that imageRef names an image of. With one, a server "
        "create checks the image (unknown: 400; not active, or bigger than the "
        "flavor allows: 400) and compute hosts fetch its bits into their cache; "
        "GET /v2.1/images proxies it.",
    ),
    cfg.StrOpt(
        "local_store_path",
        default="$state_path/image-store",
        help="Directory of the local image store (backend local): one <id> file "
        "of image data and one <id>.json of its Glance-style record per image. "
        "Every API and compute host must see the same directory.",
    ),
    cfg.StrOpt(
        "cache_dir",
        default="$state_path/images/_base",
        help="This host's image cache: <id> holds the verified bits of an image, "
        "downloaded once however many servers boot from it; downloads in progress "
        "are hidden temporary files (.<id>.part-*), locks are in .locks/.",
    ),
]

glance_opts: list[cfg.Opt] = [
    cfg.ListOpt(
        "api_servers",
        default=[],
        sample_default="http://127.0.0.1:9292",
        help="Endpoints of the Glance v2 API (scheme, host, port, any path "
        "before /v2), tried in turn when one cannot be reached. Empty with "
        "[image] backend glance: the image endpoint of the caller's service "
        "catalog (keystone).",
    ),
    cfg.FloatOpt(
        "timeout",
        default=60.0,
        min=0.1,
        help="Seconds to wait for Glance to answer (for a download: between two pieces of data).",
    ),
    cfg.IntOpt(
        "num_retries",
        default=3,
        min=0,
        help="Retries of a Glance call whose connection failed, on the next "
        "api_servers entry (requests that reached Glance are not retried).",
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register the image options on ``conf``."""
    for group, opts in list_opts().items():
        conf.register_group(group)
        conf.register_opts(opts, group=group)


def list_opts() -> dict[cfg.OptGroup, list[cfg.Opt]]:
    """Return the options of this module by group, for the sample generator."""
    return {image_group: image_opts, glance_group: glance_opts}
