"""Options of ``[network]`` (which backend) and of each backend's group."""

from __future__ import annotations

from oslo_config import cfg

from nova import keystone

network_group = cfg.OptGroup(
    "network", title="Networking", help="How instances get their NICs (VIFs)."
)
quantum_group = cfg.OptGroup(
    "quantum", title="Quantum", help="The reference Quantum v1.1 service (backend quantum)."
)
neutron_group = cfg.OptGroup(
    "neutron", title="Neutron", help="A Neutron v2.0 service (backend neutron)."
)

network_opts: list[cfg.Opt] = [
    cfg.StrOpt(
        "backend",
        default="quantum",
        choices=[
            ("quantum", "the reference Quantum v1.1 service ([quantum] options)"),
            ("neutron", "a Neutron v2.0 service ([neutron] options)"),
            ("legacy", "nova-network: Nova's own networks and fixed IPs"),
        ],
        help="Network service that gives instances their ports.",
    ),
    cfg.StrOpt(
        "legacy_manager",
        default="flat",
        choices=[
            ("flat", "shared networks; instances of every project use them"),
            ("vlan", "one VLAN network per project"),
        ],
        help="Manager of the legacy backend.",
    ),
]

quantum_opts: list[cfg.Opt] = [
    cfg.URIOpt(
        "url",
        default="http://127.0.0.1:9696",
        schemes=["http", "https"],
        help="Endpoint of the Quantum service.",
    ),
    cfg.BoolOpt(
        "embedded",
        default=False,
        help="Run the reference Quantum service inside this process (nova-all), "
        "listening where [quantum] url points.",
    ),
    cfg.StrOpt(
        "connection",
        default="sqlite:///$state_path/quantum.sqlite",
        secret=True,
        help="Database of the embedded Quantum service.",
    ),
    cfg.StrOpt(
        "agent_config_file",
        default=None,
        help="With [quantum] embedded: a Quantum configuration file read by the "
        "embedded service (Nova's own settings of where it listens, its state_path "
        "and database win), and also run quantum-agent in this process with its "
        "[agent], [linuxbridge] and [openvswitch] options ([agent] quantum_url and "
        "admin_token default to [quantum] url and auth_token). The agent wires this "
        "host's taps and Open vSwitch ports to their networks and runs their DHCP "
        "servers: it needs root and a real libvirt. Unset (the default): no agent, "
        "and no host networking is touched.",
    ),
    cfg.StrOpt(
        "auth_token",
        default="admin:admin",
        secret=True,
        help="Token Nova sends to Quantum (X-Auth-Token) when no service user "
        "is configured (auth_type unset). With noauth it is 'user:tenant', and "
        "the user must be 'admin' for Nova to act in every tenant. With a service "
        "user (auth_type, auth_url, username ... below: keystoneauth1's options), "
        "calls carry the user's Keystone token, or the service user's for Nova's "
        "own work and when Quantum refuses the user's.",
    ),
    cfg.FloatOpt("timeout", default=30.0, min=0.1, help="Seconds to wait for a reply."),
    cfg.IntOpt(
        "connect_retries",
        default=3,
        min=0,
        help="Retries of a request whose connection failed (nothing was sent). "
        "Requests that reached the service are never retried.",
    ),
    cfg.FloatOpt(
        "addresses_timeout",
        default=5.0,
        min=0.1,
        help="Seconds a server view (and /servers/{id}/ips) waits for Quantum's reply "
        "with a network's fixed IPs (one call per network shown); past it the "
        "servers are shown without the addresses of that service, with a warning "
        "in the log, so a stalled network service slows views by this much at most. "
        "Not used when Quantum runs in the process (embedded).",
    ),
]

neutron_opts: list[cfg.Opt] = [
    cfg.URIOpt(
        "url",
        default="http://127.0.0.1:9696",
        schemes=["http", "https"],
        help="Endpoint of the Neutron service.",
    ),
    cfg.StrOpt(
        "auth_token",
        default=None,
        secret=True,
        help="Token for Neutron (X-Auth-Token) when no service user is configured "
        "(auth_type unset); unset for noauth Neutron. With a service user "
        "(keystoneauth1's options below) every call carries its token.",
    ),
    cfg.FloatOpt("timeout", default=30.0, min=0.1, help="Seconds to wait for a reply."),
    cfg.IntOpt(
        "connect_retries",
        default=3,
        min=0,
        help="Retries of a request whose connection failed (nothing was sent).",
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register the network options on ``conf``."""
    for group, opts in _own_opts().items():
        conf.register_group(group)
        conf.register_opts(opts, group=group)
    for group in (quantum_group, neutron_group):
        keystone.register_opts(conf, group.name)


def _own_opts() -> dict[cfg.OptGroup, list[cfg.Opt]]:
    return {network_group: network_opts, quantum_group: quantum_opts, neutron_group: neutron_opts}


def list_opts() -> dict[cfg.OptGroup, list[cfg.Opt]]:
    """Return the options of this module by group, for the sample generator."""
    opts = _own_opts()
    for group in (quantum_group, neutron_group):
        opts[group] = opts[group] + keystone.list_opts()
    return opts
