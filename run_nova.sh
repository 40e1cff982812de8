#!/usr/bin/env bash
#
# Set up and run the embedded cloud (nova-all): one command, idempotent.
#
#   ./run_nova.sh            state in ./.state (or $NOVA_STATE_PATH)
#   ./run_nova.sh --guests   (root) real guests: libvirtd (qemu, TCG) in a private
#                            network namespace, the tiny guest image, the Linux
#                            bridge agent with DHCP; state in ./.state-guests (or
#                            $NOVA_STATE_PATH), emptied at each start
#   ./run_nova.sh --cluster [--computes N]   the multi-process cloud as daemons:
#                            private PostgreSQL and RabbitMQ, quantum-server,
#                            nova-api, nova-scheduler and N (2) nova-compute;
#                            returns once all are up; state, configs, logs and
#                            PID files in ./.state-cluster (or $NOVA_STATE_PATH)
#   ./run_nova.sh --cluster status | stop    (see tools/cluster-mode.sh)
#
# Installs what is missing (Debian packages when root, .venv with the
# project), writes $STATE/nova.conf on first use, then runs nova-all in the
# foreground: the compute API on 127.0.0.1:8774, the reference Quantum
# service on 127.0.0.1:9696, scheduler and compute, SQLite in $STATE,
# in-process messaging and libvirt's test:///default. Ctrl-C stops it.

set -euo pipefail
ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
cd -- "$ROOT"

# shellcheck source=tools/bootstrap.sh
source "$ROOT/tools/bootstrap.sh"

if [[ "${1:-}" == --guests ]]; then
    ensure_apt_packages "$ROOT/tools/apt-packages.txt" "$ROOT/tools/apt-packages-guests.txt"
    ensure_venv
    # shellcheck source=tools/guests-mode.sh
    source "$ROOT/tools/guests-mode.sh"
    set +e  # the service library checks its own steps (as in run_tests.sh)
    trap 'guests_mode_stop' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    guests_mode_setup "${NOVA_STATE_PATH:-$ROOT/.state-guests}" || exit 1
    guests_mode_start_nova || exit 1
    cat <<HELP
nova-all runs with real guests (state: $GUESTS_STATE, network namespace
$NOVA_TEST_NETNS). In another shell, boot two guests on one network, each
told to ping the other, and read their consoles:

# --- walkthrough ---
A=http://127.0.0.1:${NOVA_API_PORT:-8774}/v2.1  Q=http://127.0.0.1:${NOVA_QUANTUM_PORT:-9696}/v1.1/tenants/demo
IMAGE=$GUESTS_IMAGE
H=(-H 'X-Auth-Token: demo' -H 'Content-Type: application/json')
NET=\$(curl -s \$Q/networks -H 'X-Auth-Token: admin:demo' -H 'Content-Type: application/json' \\
  -d '{"network": {"name": "guests", "plugin": "linuxbridge", "subnet": {"cidr": "10.0.0.0/24"}}}' | jq -r .network.id)
P1=\$(curl -s \$Q/networks/\$NET/ports "\${H[@]}" -d '{"port": {"fixed_ip": "10.0.0.11"}}' | jq -r .port.id)
P2=\$(curl -s \$Q/networks/\$NET/ports "\${H[@]}" -d '{"port": {"fixed_ip": "10.0.0.12"}}' | jq -r .port.id)
boot() {  # boot NAME PORT PEER
  curl -s \$A/servers "\${H[@]}" -d '{"server": {"name": "'\$1'", "imageRef": "'\$IMAGE'", "flavorRef": "1",
    "networks": [{"port": "'\$2'"}], "metadata": {"ping": "'\$3'"}, "config_drive": true}}' | jq -r .server.id
}
S1=\$(boot one \$P1 10.0.0.12)  S2=\$(boot two \$P2 10.0.0.11)
console() { curl -s \$A/servers/\$1/action "\${H[@]}" -d '{"os-getConsoleOutput": {"length": 50}}' | jq -r .output; }
until console \$S1 | grep -q 'PING 10.0.0.12 ok' && console \$S2 | grep -q 'PING 10.0.0.11 ok'; do sleep 2; done
console \$S1 | grep -E 'GUEST IP|PING' | sort -u
console \$S2 | grep -E 'GUEST IP|PING' | sort -u
curl -s -X DELETE \$A/servers/\$S1 "\${H[@]}"; curl -s -X DELETE \$A/servers/\$S2 "\${H[@]}"
# --- end ---

Ctrl-C stops nova-all, the guests, libvirtd and the namespace.
HELP
    # In the background, so that the traps run as soon as a signal comes.
    wait "$GUESTS_NOVA_PID" || true
    exit 0
fi

if [[ "${1:-}" == --cluster ]]; then
    shift
    action=start computes=2
    while [[ $# -gt 0 ]]; do
        case "$1" in
            start | stop | status) action=$1 ;;
            --computes) computes=${2:-}; shift ;;
            --computes=*) computes=${1#--computes=} ;;
            *) say "usage: ./run_nova.sh --cluster [start|stop|status] [--computes N]"; exit 2 ;;
        esac
        shift
    done
    if ! [[ "$computes" =~ ^[1-9][0-9]*$ ]]; then
        say "--computes takes a number of at least 1"
        exit 2
    fi
    if [[ $action == start ]]; then
        ensure_apt_packages "$ROOT/tools/apt-packages.txt" "$ROOT/tools/apt-packages-cluster.txt"
        ensure_venv
    fi
    # shellcheck source=tools/cluster-mode.sh
    source "$ROOT/tools/cluster-mode.sh"
    set +e  # the service library checks its own steps (as in run_tests.sh)
    state=${NOVA_STATE_PATH:-$ROOT/.state-cluster}
    if [[ $action == start ]]; then
        # Interrupted while starting: nothing is left running.
        trap 'cluster_mode_stop "$state"; exit 130' INT
        trap 'cluster_mode_stop "$state"; exit 143' TERM
    fi
    "cluster_mode_$action" "$state" "$computes"
    exit $?
fi

ensure_apt_packages "$ROOT/tools/apt-packages.txt"
ensure_venv

STATE=$(mkdir -p -- "${NOVA_STATE_PATH:-$ROOT/.state}" && cd -- "${NOVA_STATE_PATH:-$ROOT/.state}" && pwd -P)
CONFIG="$STATE/nova.conf"
if [[ ! -f "$CONFIG" ]]; then
    cat >"$CONFIG" <<CONF
# Written by run_nova.sh; every option is listed in etc/nova.conf.sample.
[DEFAULT]
state_path = $STATE
host = $(hostname)
transport_url = fake://
# Guests of libvirt's test driver use no memory: let one host take many.
ram_allocation_ratio = 16.0

[database]
connection = sqlite:///\$state_path/nova.sqlite

[network]
backend = quantum

[quantum]
embedded = true
url = http://127.0.0.1:9696
connection = sqlite:///\$state_path/quantum.sqlite

[libvirt]
connection_uri = test:///default
CONF
    say "wrote $CONFIG"
fi

cat <<'HELP'
Starting nova-all. In another shell, try:

  Q=http://127.0.0.1:9696/v1.1/tenants/demo  A=http://127.0.0.1:8774/v2.1
  NET=$(curl -s -X POST $Q/networks -H 'X-Auth-Token: admin:demo' -H 'Content-Type: application/json' \
        -d '{"network": {"name": "web", "plugin": "openvswitch"}}' | jq -r .network.id)
  PORT=$(curl -s -X POST $Q/networks/$NET/ports -H 'X-Auth-Token: demo' | jq -r .port.id)
  SERVER=$(curl -s $A/servers -H 'X-Auth-Token: demo' -H 'Content-Type: application/json' \
        -d "{\"server\": {\"name\": \"web1\", \"imageRef\": \"cirros\", \"flavorRef\": \"1\",
             \"networks\": [{\"port\": \"$PORT\"}], \"launch\": false}}" | jq -r .server.id)
  curl -s $A/servers/$SERVER/os-virtual-interfaces -H 'X-Auth-Token: demo'
  curl -s $A/servers/$SERVER/action -H 'X-Auth-Token: demo' -H 'Content-Type: application/json' -d '{"launch": null}'
  curl -s $A/servers/$SERVER -H 'X-Auth-Token: demo' | jq .server.status     # ACTIVE
  cat .state/instances/$SERVER/libvirt.xml                                  # the <interface> from the port

or with openstacksdk (see README.md).
HELP
exec "$ROOT/.venv/bin/nova-all" --config-file "$CONFIG"
