# shellcheck shell=bash
#
# Set-up shared by run_tests.sh, run_nova.sh and bench/run_all.sh: Debian
# packages (installed when missing and running as root) and the project's
# .venv (re-installed whenever setup.py & co change). Source it with ROOT set
# to the repository; then call ensure_apt_packages LIST... and ensure_venv.

say() {
    printf '%s: %s\n' "$(basename -- "$0")" "$*" >&2
}

# ---------------------------------------------------------------------------
# System packages
# ---------------------------------------------------------------------------

ensure_apt_packages() {
    # ensure_apt_packages LIST...: the packages named in the LIST files
    local list line pkg status
    local -a wanted=() missing=()
    for list in "$@"; do
        [[ -r "$list" ]] || continue
        while IFS= read -r line || [[ -n "$line" ]]; do
            line=${line%%#*}
            for pkg in $line; do
                wanted+=("$pkg")
            done
        done <"$list"
    done
    [[ ${#wanted[@]} -gt 0 ]] || return 0
    if ! command -v dpkg-query >/dev/null 2>&1; then
        say "not a Debian system: make sure these are installed: ${wanted[*]}"
        return 0
    fi
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

