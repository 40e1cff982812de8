#!/usr/bin/env bash
#
# The one way to run this project's tests.
#
#   ./run_tests.sh                 run the test suite (tests/)
#   ./run_tests.sh -c              ... with coverage of nova and quantum
#   ./run_tests.sh -p              lint only (ruff check .)
#   ./run_tests.sh -n              do not start the database servers
#   ./run_tests.sh tests/unit -x   extra arguments go to pytest
#
# Idempotent, and usable on a fresh Debian 12 machine: when run as root it
# installs the missing packages listed in tools/apt-packages.txt; it creates
# .venv and (re)installs the project into it whenever setup.py & co change;
# unless -n, it starts private PostgreSQL and MariaDB servers on 127.0.0.1
# (tools/test-services.sh) for the integration tests and stops them at exit.

set -euo pipefail

usage() {
    cat <<'EOF'
usage: ./run_tests.sh [-p] [-c] [-n|--no-services] [--] [PYTEST_ARGS...]

  -p                  lint only: ruff check .
  -c                  run pytest with coverage (--cov=nova --cov=quantum)
  -n, --no-services   do not start PostgreSQL/MariaDB; the tests that need
                      them are skipped
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

say() {
    printf 'run_tests.sh: %s\n' "$*" >&2
}

# ---------------------------------------------------------------------------
# System packages
# ---------------------------------------------------------------------------

ensure_apt_packages() {
    local list="$ROOT/tools/apt-packages.txt" line pkg status
    local -a wanted=() missing=()
    [[ -r "$list" ]] || return 0
    if ! command -v dpkg-query >/dev/null 2>&1; then
        say "not a Debian system: make sure these are installed: $(
            sed -e 's/#.*//' "$list" | xargs)"
        return 0
    fi
    while IFS= read -r line || [[ -n "$line" ]]; do
        line=${line%%#*}
        for pkg in $line; do
            wanted+=("$pkg")
        done
    done <"$list"
    for pkg in "${wanted[@]}"; do
        status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
        [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
    done
    [[ ${#missing[@]} -gt 0 ]] || return 0

    if [[ "$(id -u)" != 0 ]]; then
        say "missing Debian packages: ${missing[*]}"
        say "install them with: sudo apt-get install ${missing[*]}"
        return 0
    fi

    say "installing missing Debian packages: ${missing[*]}"
    # In a subshell, so that the policy-rc.d we may create is removed
    # however apt-get ends.
    (
        export DEBIAN_FRONTEND=noninteractive
        policy=/usr/sbin/policy-rc.d
        created_policy=0
        trap 'if [[ $created_policy == 1 ]]; then rm -f -- "$policy"; fi' EXIT
        if [[ ! -e "$policy" ]]; then
            # Keep apt from starting the PostgreSQL/MariaDB system services:
            # the tests run their own private servers.
            printf '#!/bin/sh\nexit 101\n' >"$policy"
            chmod 0755 "$policy"
            created_policy=1
        fi
        apt-get update
        apt-get install -y --no-install-recommends \
            -o Dpkg::Options::=--force-confdef \
            -o Dpkg::Options::=--force-confold \
            "${missing[@]}"
    )
}

# ---------------------------------------------------------------------------
# Virtualenv
# ---------------------------------------------------------------------------

VENV="$ROOT/.venv"
STAMP="$VENV/.installed-stamp"
EXTRAS="test,postgresql,mysql"

python_ok() {
    # python_ok PYTHON: runs and is 3.11 or newer
    "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
        >/dev/null 2>&1
}

pick_python() {
    local c
    for c in python3 python3.13 python3.12 python3.11; do
        if command -v "$c" >/dev/null 2>&1 && python_ok "$c"; then
            command -v "$c"
            return 0
        fi
    done
    return 1
}

install_stamp() {
    # Everything that decides what "pip install -e" installs.
    local f
    {
        printf 'extras=%s\n' "$EXTRAS"
        "$VENV/bin/python" -c 'import sys; print(sys.version)'
        for f in setup.py setup.cfg pyproject.toml requirements*.txt; do
            [[ -f "$f" ]] || continue
            printf '== %s\n' "$f"
            cat -- "$f"
        done
    } | sha256sum | cut -d' ' -f1
}

ensure_venv() {
    local python stamp
    if [[ -e "$VENV" ]] && ! python_ok "$VENV/bin/python"; then
        say "$VENV is broken or too old, recreating it"
        rm -rf -- "$VENV"
    fi
    if [[ ! -e "$VENV" ]]; then
        if ! python=$(pick_python); then
            say "no Python 3.11 or newer found"
            return 1
        fi
        say "creating $VENV with $python"
        "$python" -m venv "$VENV"
    fi
    if [[ ! -f setup.py && ! -f pyproject.toml && ! -f setup.cfg ]]; then
        say "no setup.py here yet: not installing the project"
        return 0
    fi
    stamp=$(install_stamp)
    if [[ -f "$STAMP" && "$(cat -- "$STAMP")" == "$stamp" ]]; then
        return 0
    fi
    say "installing the project into $VENV (.[${EXTRAS}])"
    PIP_DISABLE_PIP_VERSION_CHECK=1 "$VENV/bin/python" -m pip install -q \
        -e ".[${EXTRAS}]"
    printf '%s\n' "$stamp" >"$STAMP"
}

# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------

ensure_apt_packages
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
    export NOVA_TEST_REQUIRE_SERVICES=postgresql,mysql
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
