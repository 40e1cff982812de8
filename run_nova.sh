#!/usr/bin/env bash
#
# Set up and run the embedded cloud: one command, idempotent.
#
#   ./run_nova.sh            state in ./.state (or $NOVA_STATE_PATH)
#
# Installs what is missing (Debian packages when root, .venv with the
# project), writes $STATE/nova.conf on first use, and brings the SQLite
# database to the newest schema. The API, scheduler, compute and the
# reference Quantum service join here as they land (nova-all); today the
# command prints the schema version it reached.

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

[database]
connection = sqlite:///\$state_path/nova.sqlite
CONF
    say "wrote $CONFIG"
fi

"$ROOT/.venv/bin/nova-manage" --config-file "$CONFIG" db sync
version=$("$ROOT/.venv/bin/nova-manage" --config-file "$CONFIG" db version)
echo "Nova database schema version $version, in $STATE (config: $CONFIG)"
