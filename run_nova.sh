#!/usr/bin/env bash
#
# Set up and run the embedded cloud (nova-all): one command, idempotent.
#
#   ./run_nova.sh            state in ./.state (or $NOVA_STATE_PATH)
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
