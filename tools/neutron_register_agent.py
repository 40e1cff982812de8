"""Register a fake Open vSwitch agent in a Neutron database.

Run with the Python of Neutron's own virtualenv (not the project's .venv),
against the configuration files the Neutron server uses::

    neutron-venv/bin/python tools/neutron_register_agent.py \\
        --config-file DIR/neutron.conf --config-file DIR/ml2_conf.ini \\
        --host nova-test-host

ML2's openvswitch mechanism driver binds a port only to a host that has a
live Open vSwitch agent.  No agent runs here: this writes the agent row the
way a real agent's state report would, through Neutron's own agent DB mixin
(``AgentDbMixin.create_or_update_agent``), so that a port bound to HOST gets
``binding:vif_type`` ``ovs`` and ``binding:vif_details`` naming the
integration bridge.  The row stays "alive" as long as the server's
``agent_down_time`` says (set it to its maximum, 2147483 s).

Running it again updates the row (and its heartbeat).  Prints the agent as
JSON on stdout.
"""

from __future__ import annotations

import argparse
import json
import sys


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--config-file",
        action="append",
        required=True,
        help="a Neutron configuration file (repeat: neutron.conf, ml2_conf.ini)",
    )
    parser.add_argument("--host", required=True, help="the agent's host name")
    parser.add_argument(
        "--integration-bridge",
        default="br-int",
        help="the bridge named in binding:vif_details (default: br-int)",
    )
    parser.add_argument(
        "--datapath-type",
        default="system",
        choices=("system", "netdev"),
        help="system gives vif_type ovs; netdev (with vhost-user) gives vhostuser",
    )
    parser.add_argument(
        "--bridge-mapping",
        action="append",
        default=[],
        metavar="PHYSNET:BRIDGE",
        help="a provider network mapping (default: physnet1:br-ex)",
    )
    return parser.parse_args(argv)


def agent_state(args: argparse.Namespace) -> dict:
    """The state report of an Open vSwitch agent on ``args.host``."""
    # Imported here so that --help works without Neutron.
    from neutron_lib import constants

    mappings = dict(item.split(":", 1) for item in (args.bridge_mapping or ["physnet1:br-ex"]))
    iface_types = ["internal", "system", "patch", "tap"]
    if args.datapath_type == "netdev":
        iface_types += ["dpdkvhostuserclient"]
    return {
        "binary": constants.AGENT_PROCESS_OVS,
        "host": args.host,
        "topic": constants.L2_AGENT_TOPIC,
        "agent_type": constants.AGENT_TYPE_OVS,
        "start_flag": True,
        "configurations": {
            "bridge_mappings": mappings,
            "integration_bridge": args.integration_bridge,
            "datapath_type": args.datapath_type,
            "ovs_capabilities": {
                "datapath_types": [args.datapath_type],
                "iface_types": iface_types,
            },
            "vhostuser_socket_dir": "/var/run/openvswitch",
            "tunnel_types": [],
            "tunneling_ip": None,
            "l2_population": False,
            "arp_responder_enabled": False,
            "enable_distributed_routing": False,
            "log_agent_heartbeats": False,
            "devices": 0,
            "in_distributed_mode": False,
            "extensions": [],
            "ovs_hybrid_plug": False,
            "baremetal_smartnic": False,
        },
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)

    from neutron.common import config as n_config
    from neutron.db import agents_db
    from neutron_lib import context as n_context
    from oslo_config import cfg

    n_config.register_common_config_options()
    cfg.CONF(args=[], project="neutron", default_config_files=args.config_file)

    plugin = agents_db.AgentDbMixin()
    ctx = n_context.get_admin_context()
    status, state = plugin.create_or_update_agent(ctx, agent_state(args))
    agent = plugin._get_agent_by_type_and_host(ctx, state["agent_type"], args.host)
    json.dump(
        {
            "id": state["id"],
            "status": status,
            "host": agent.host,
            "agent_type": agent.agent_type,
            "alive": agent.is_active,
            "configurations": agent.configurations,
        },
        sys.stdout,
        sort_keys=True,
    )
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
