#!/usr/bin/env bash
#
# The one way to run this project's tests.
#
#   ./run_tests.sh                 run the test suite (tests/)
#   ./run_tests.sh -c              ... with coverage of nova and quantum
#   ./run_tests.sh -p              lint only (ruff check .)
#   ./run_tests.sh -n              do not start the test servers
#   ./run_tests.sh tests/unit -x   extra arguments go to pytest
#
# Idempotent, and usable on a fresh Debian 12 machine: when run as root it
# installs the missing packages listed in tools/apt-packages.txt; it creates
# .venv and (re)installs the project into it whenever setup.py & co change;
# unless -n, it starts private PostgreSQL and MariaDB servers, a real
# Neutron API server and RabbitMQ on 127.0.0.1 (tools/test-services.sh) for
# the integration tests and stops them at exit.  Neutron runs from its own
# virtualenv, cached in .cache/neutron-venv (or $NOVA_TEST_CACHE): the first
# run installs it (about a minute), later runs reuse it.

set -euo pipefail

usage() {
    cat <<'EOF'
usage: ./run_tests.sh [-p] [-c] [-n|--no-services] [--] [PYTEST_ARGS...]

  -p                  lint only: ruff check .
  -c                  run pytest with coverage (--cov=nova --cov=quantum)
  -n, --no-services   do not start PostgreSQL/MariaDB/Neutron/RabbitMQ; the
                      tests that need them are skipped
  -h, --help          this help

Options are read up to the first argument this script does not know; the
rest goes to pytest.  When none of the pytest arguments names an existing
file or directory, "tests" is added.
EOF
}

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
cd -- "$ROOT"

lint_only=0
coverage=0
services=1
while [[ $# -gt 0 ]]; do
    case "$1" in
        -p) lint_only=1 ;;
        -c) coverage=1 ;;
        -n|--no-services) services=0 ;;
        -h|--help) usage; exit 0 ;;
        --) shift; break ;;
        *) break ;;
    esac
    shift
done
pytest_args=("$@")

# shellcheck source=tools/bootstrap.sh
source "$ROOT/tools/bootstrap.sh"

# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------

ensure_apt_packages "$ROOT/tools/apt-packages.txt" "$ROOT/tools/apt-packages-test.txt"
ensure_venv

if [[ $lint_only == 1 ]]; then
    if [[ ! -x "$VENV/bin/ruff" ]]; then
        say "ruff is not installed in $VENV"
        exit 1
    fi
    exec "$VENV/bin/ruff" check .
fi

if [[ $services == 1 ]]; then
    # shellcheck source=tools/test-services.sh
    source "$ROOT/tools/test-services.sh"
    services_dir=$(mktemp -d "${TMPDIR:-/tmp}/nova-test-services.XXXXXX")
    trap stop_test_services EXIT
    # Exit (and so run the EXIT trap) on Ctrl-C / kill.
    trap 'exit 130' INT
    trap 'exit 143' TERM
    start_postgresql "$services_dir"
    start_mysql "$services_dir"
    if ! start_neutron "$services_dir"; then
        say "could not start the Neutron test server (see the messages" \
            "above); use -n to run without the test servers"
        exit 1
    fi
    if ! start_rabbitmq "$services_dir"; then
        say "could not start the RabbitMQ test server (see the messages" \
            "above); use -n to run without the test servers"
        exit 1
    fi
    export NOVA_TEST_REQUIRE_SERVICES=postgresql,mysql,neutron,rabbitmq
fi

# Default to tests/ unless some argument names a file or directory.
has_path=0
for arg in "${pytest_args[@]}"; do
    [[ "$arg" == -* ]] && continue
    if [[ -e "${arg%%::*}" ]]; then
        has_path=1
        break
    fi
done
[[ $has_path == 1 ]] || pytest_args+=(tests)

if [[ $coverage == 1 ]]; then
    pytest_args=(--cov=nova --cov=quantum --cov-report=term "${pytest_args[@]}")
fi

rc=0
"$VENV/bin/python" -m pytest "${pytest_args[@]}" || rc=$?
exit "$rc"
