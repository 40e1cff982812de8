"""Options of the compute API: ``[api]`` and where ``nova-api`` listens."""

from __future__ import annotations

from oslo_config import cfg
from oslo_middleware import http_proxy_to_wsgi

api_group = cfg.OptGroup("api", title="Compute API", help="The OpenStack compute API.")

api_opts = [
    cfg.StrOpt(
        "auth_strategy",
        default="noauth2",
        choices=[
            (
                "noauth2",
                "X-Auth-Token is 'user:project' (or one name for both); user "
                "'admin' is an admin. For tests and the embedded cloud only.",
            ),
            (
                "keystone",
                "keystonemiddleware validates tokens with the [keystone_authtoken] "
                "options of this configuration; the version documents need none",
            ),
        ],
        help="How API requests are authenticated.",
    ),
    cfg.ListOpt(
        "extensions_path",
        default=[],
        help="Directories whose Python files are loaded as API extensions "
        "(names starting with '_' are skipped); empty: the api_extensions "
        "directory installed with Nova. List it too to keep Nova's extensions "
        "beside your own. A file that fails to import, or a duplicate alias, "
        "stops the API from starting.",
    ),
    cfg.IntOpt(
        "max_limit",
        default=1000,
        min=1,
        help="Most items one list request returns, whatever 'limit' asks.",
    ),
    cfg.IntOpt(
        "max_server_count",
        default=100,
        min=1,
        help="Most servers one create request may make: a larger 'min_count' or "
        "'max_count' is refused (400), as a request must not tie up the API for long.",
    ),
    cfg.URIOpt(
        "public_endpoint",
        default=None,
        schemes=["http", "https"],
        help="Base URL of the compute API as clients reach it, e.g. "
        "https://cloud.example.com:8774 (no version): the self and bookmark links "
        "of every response start with it. Unset: the scheme and Host header of "
        "each request (with [oslo_middleware] enable_proxy_headers_parsing, the "
        "X-Forwarded-Proto/-Host or Forwarded header of the proxy in front, which "
        "must then be the only way in: a client could send them too).",
    ),
    cfg.BoolOpt(
        "enable_instance_password",
        default=True,
        help="Whether the answer to a server create carries 'adminPass' (the one "
        "the request gave, else a generated one), as Nova's. The password is never "
        "stored, and no guest here is given it: clients that expect the key "
        "(tempest) get it; do not rely on it to log in.",
    ),
    cfg.IntOpt(
        "max_request_body_size",
        default=1024 * 1024,
        min=1024,
        help="Largest request body accepted, in bytes; larger ones get 413 unread.",
    ),
]

listen_opts = [
    cfg.HostAddressOpt(
        "osapi_compute_listen", default="127.0.0.1", help="Address nova-api listens on."
    ),
    cfg.PortOpt("osapi_compute_listen_port", default=8774, help="Port nova-api listens on."),
    cfg.IntOpt(
        "osapi_compute_workers",
        default=None,
        min=1,
        sample_default="<number of CPUs>",
        help="Worker processes of nova-api (default: one per CPU).",
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register the API options on ``conf``."""
    conf.register_group(api_group)
    conf.register_opts(api_opts, group=api_group)
    conf.register_opts(listen_opts)
    conf.register_opts(http_proxy_to_wsgi.OPTS, group="oslo_middleware")


def list_opts() -> dict:
    """Return the options of this module by group, for the sample generator."""
    return {api_group: api_opts, "DEFAULT": listen_opts}
