#!/usr/bin/env bash
#
# The one way to run this project's tests.
#
#   ./run_tests.sh                 run the test suite (tests/)
#   ./run_tests.sh -c              ... with coverage of nova and quantum
#   ./run_tests.sh -p              lint only (ruff check ., then mypy)
#   ./run_tests.sh -n              do not start the test servers
#   ./run_tests.sh --long          only the long runs (pytest -m long)
#   ./run_tests.sh tests/unit -x   extra arguments go to pytest
#
# Idempotent, and usable on a fresh Debian 12 machine: when run as root it
# installs the missing packages listed in tools/apt-packages.txt; it creates
# .venv and (re)installs the project into it whenever setup.py & co change;
# unless -n, it starts private PostgreSQL and MariaDB servers, a real
# Neutron API server, a real Keystone and Glance (tools/services/, each in
# its own cached virtualenv too) and RabbitMQ on 127.0.0.1
# (tools/test-services.sh) for the integration tests, and, as root with
# /dev/net/tun, Open vSwitch in userspace and libvirtd in a private network
# namespace (tools/services/) for the agent and real-guest tests, and stops
# them at exit.  Neutron runs from its own
# virtualenv, cached in .cache/neutron-venv (or $NOVA_TEST_CACHE): the first
# run installs it (about a minute), later runs reuse it.  The unmodified
# clients of the compatibility suite (tests/compat) get one too
# (tools/client-venv.sh), installed whenever the tests to run include it.

set -euo pipefail

usage() {
    cat <<'EOF'
usage: ./run_tests.sh [-p] [-c] [-n|--no-services] [--long] [--] [PYTEST_ARGS...]

  -p                  lint only: ruff check ., then mypy (mypy.ini); fails on
                      either's findings
  -c                  run pytest with coverage (--cov=nova --cov=quantum)
  -n, --no-services   do not start PostgreSQL/MariaDB/Neutron/Keystone/Glance/
                      RabbitMQ/Open vSwitch/libvirtd; the
                      tests that need them are skipped
  --long              run the tests marked "long" (the 10,000-request fuzz
                      run) instead of the others; .ci/run runs both
  -h, --help          this help

Options are read up to the first argument this script does not know; the
rest goes to pytest.  When none of the pytest arguments names an existing
file or directory, "tests" is added.  Unless --long or a -m of your own is
given, the long tests are deselected (-m "not long").  Every test times out
after the pytest.ini "timeout" (pytest-timeout) unless it is marked longer.
EOF
}

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
cd -- "$ROOT"

lint_only=0
coverage=0
services=1
long=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        -p) lint_only=1 ;;
        -c) coverage=1 ;;
        -n|--no-services) services=0 ;;
        --long) long=1 ;;
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
    rc=0
    "$VENV/bin/ruff" check . || rc=1
    if [[ ! -x "$VENV/bin/mypy" ]]; then
        say "mypy is not installed in $VENV"
        exit 1
    fi
    "$VENV/bin/mypy" --config-file "$ROOT/mypy.ini" || rc=1
    exit "$rc"
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
    # Each server the full run requires: one that cannot start ends the run.
    for server in neutron keystone glance glance_keystone rabbitmq; do
        if ! "start_$server" "$services_dir"; then
            say "could not start the $server test server (see the messages" \
                "above); use -n to run without the test servers"
            exit 1
        fi
    done
    # libvirt's RelaxNG schema (Debian's libvirt0, pulled in by libvirt-dev)
    # too: the XML validation tests must not skip in a full run.
    export NOVA_TEST_REQUIRE_SERVICES=postgresql,mysql,neutron,keystone,glance,glance-keystone,rabbitmq,libvirt-schema
    # Host networking where the machine allows it (root and /dev/net/tun), in
    # the private network namespace NOVA_TEST_NETNS: Open vSwitch in userspace
    # (the agent tests), then libvirtd (it finds the switch through
    # NOVA_TEST_OVS_RUNDIR) and the tiny guest image for the real guests
    # (-m guests; tools/guest-image/build.py, cached: NOVA_TEST_GUEST_IMAGE).
    if libvirt_can_run; then
        if ! start_openvswitch "$services_dir"; then
            say "could not start Open vSwitch (see the messages above); use -n" \
                "to run without the test servers"
            exit 1
        fi
        if ! start_libvirtd "$services_dir" ||
                ! NOVA_TEST_GUEST_IMAGE=$("$VENV/bin/python" tools/guest-image/build.py); then
            say "could not start libvirtd or build the guest image (see above)"
            exit 1
        fi
        export NOVA_TEST_GUEST_IMAGE
        NOVA_TEST_REQUIRE_SERVICES+=,openvswitch,libvirt
    else
        say "not root or no /dev/net/tun: the agent and real-guest tests will skip"
    fi
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

# The clients' virtualenv, when the run includes tests that use it (the
# compatibility suite, the SDK against Neutron): a run of the whole suite
# requires it.
wants_clients=0
for arg in "${pytest_args[@]}"; do
    [[ "$arg" == -* || ! -e "${arg%%::*}" ]] && continue
    path=$(realpath -m --relative-to="$ROOT" -- "${arg%%::*}")
    case "$path" in
        .|tests|tests/compat|tests/compat/*|tests/integration|tests/integration/test_sdk*|tests/integration/test_keystone*)
            wants_clients=1 ;;
    esac
done
if [[ $wants_clients == 1 && $long == 0 ]]; then
    # shellcheck source=tools/client-venv.sh
    source "$ROOT/tools/client-venv.sh"
    if ensure_client_venv && [[ $services == 1 ]]; then
        NOVA_TEST_REQUIRE_SERVICES+=,clients
    elif [[ $services == 1 ]]; then
        say "could not install the clients' virtualenv (see above)"
        exit 1
    fi
fi

# The long runs are their own run: --long selects them, else they are left
# out, unless the caller chose with a -m of their own.
has_marker=0
for arg in "${pytest_args[@]}"; do
    if [[ "$arg" == -m || "$arg" == -m?* ]]; then
        has_marker=1
    fi
done
if [[ $long == 1 ]]; then
    pytest_args=(-m long "${pytest_args[@]}")
elif [[ $has_marker == 0 ]]; then
    pytest_args=(-m "not long" "${pytest_args[@]}")
fi

if [[ $coverage == 1 ]]; then
    pytest_args=(--cov=nova --cov=quantum --cov-report=term "${pytest_args[@]}")
fi

rc=0
"$VENV/bin/python" -m pytest "${pytest_args[@]}" || rc=$?
exit "$rc"
