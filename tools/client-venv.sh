# shellcheck shell=bash
#
# The unmodified OpenStack clients of the compatibility suite (tests/compat),
# in a virtualenv of their own, and tempest's compute response schemas.
#
# This file is a library: source it, do not execute it.
#
#     source tools/client-venv.sh
#     ensure_client_venv     # exports NOVA_TEST_CLIENT_VENV
#
# What goes in is pinned in tools/client-requirements.txt (the clients and
# every dependency, exactly) and in _NCV_TEMPEST below (two tempest releases,
# installed without their dependencies into their own directories: only
# their pure-Python tempest/lib/api_schema modules are read). The
# virtualenv is kept in $NOVA_TEST_CACHE/client-venv-<hash> (default .cache
# in the repository), the hash taken over those pins and the Python used:
# the first run installs it (about a minute and a half), later runs reuse it,
# and a change of pins makes a new one. tools/tempest_schemas.py writes each
# tempest release's compute schemas into the virtualenv as JSON
# (tempest-<version>.json), which the tests read without importing tempest.

# 35.0.0 is the last release with compute/v2_1 servers.list_virtual_interfaces
# (removed with the nova-network tests in 36.0.0); 47.0.0 the current one.
_NCV_TEMPEST=(35.0.0 47.0.0)
# python-novaclient 18 no longer has virtual_interfaces (gone with
# nova-network); 9.1.3, the release the issue's VIF list was checked with,
# still has it. It goes into its own directory (novaclient-9.1.3, on
# PYTHONPATH when used) with the one dependency the virtualenv lacks.
_NCV_OLD_NOVACLIENT=(python-novaclient==9.1.3 six==1.17.0)
_NCV_ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)

_ncv_log() {
    printf 'client-venv: %s\n' "$*" >&2
}

_ncv_python() {
    local c
    for c in python3 python3.13 python3.12 python3.11; do
        command -v "$c" >/dev/null 2>&1 || continue
        if "$c" -c 'import sys, venv, ensurepip
sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; then
            command -v "$c"
            return 0
        fi
    done
    return 1
}

_ncv_stamp() {
    # _ncv_stamp PYTHON: what decides the virtualenv's contents
    {
        cat -- "$_NCV_ROOT/tools/client-requirements.txt"
        printf 'tempest %s\n' "${_NCV_TEMPEST[@]}"
        printf '%s\n' "${_NCV_OLD_NOVACLIENT[@]}"
        cat -- "$_NCV_ROOT/tools/tempest_schemas.py"
        "$1" -c 'import sys; print(sys.version)'
    } | sha256sum | cut -c1-16
}

_ncv_ok() {
    # _ncv_ok VENV: installed and complete?
    local v
    [[ -f "$1/.nova-test-complete" && -x "$1/bin/openstack" && -x "$1/bin/nova" ]] ||
        return 1
    [[ -d "$1/novaclient-9.1.3/novaclient" ]] || return 1
    for v in "${_NCV_TEMPEST[@]}"; do
        [[ -s "$1/tempest-$v.json" ]] || return 1
    done
    "$1/bin/python" -c '' >/dev/null 2>&1
}

ensure_client_venv() {
    local cache python stamp venv log lockfd="" rc=0 v
    cache=${NOVA_TEST_CACHE:-$_NCV_ROOT/.cache}
    mkdir -p -- "$cache" || return 1
    cache=$(cd -- "$cache" && pwd -P) || return 1
    if ! python=$(_ncv_python); then
        _ncv_log "no Python 3.11 or newer with the venv module"
        return 1
    fi
    stamp=$(_ncv_stamp "$python") || return 1
    venv="$cache/client-venv-$stamp"
    log="$venv.log"

    # Concurrent runs sharing the cache install it once.
    if command -v flock >/dev/null 2>&1; then
        exec {lockfd}>>"$cache/client-venv.lock" || return 1
        if ! flock -w 1800 "$lockfd"; then
            _ncv_log "timed out waiting for the lock on $cache"
            exec {lockfd}>&-
            return 1
        fi
    fi
    if ! _ncv_ok "$venv"; then
        _ncv_log "installing tools/client-requirements.txt and tempest" \
            "${_NCV_TEMPEST[*]} into $venv (log $log)"
        rm -rf -- "$venv"
        : >"$log"
        if ! "$python" -m venv "$venv" >>"$log" 2>&1; then
            rc=1
        elif ! env -u PYTHONPATH -u PYTHONHOME PIP_DISABLE_PIP_VERSION_CHECK=1 \
                "$venv/bin/python" -m pip install -q --no-deps \
                -r "$_NCV_ROOT/tools/client-requirements.txt" >>"$log" 2>&1; then
            rc=1
        elif ! env -u PYTHONPATH -u PYTHONHOME PIP_DISABLE_PIP_VERSION_CHECK=1 \
                "$venv/bin/python" -m pip install -q --no-deps \
                --target "$venv/novaclient-9.1.3" "${_NCV_OLD_NOVACLIENT[@]}" \
                >>"$log" 2>&1; then
            rc=1
        else
            for v in "${_NCV_TEMPEST[@]}"; do
                if ! env -u PYTHONPATH -u PYTHONHOME PIP_DISABLE_PIP_VERSION_CHECK=1 \
                        "$venv/bin/python" -m pip install -q --no-deps \
                        --target "$venv/tempest-$v" "tempest==$v" >>"$log" 2>&1 ||
                    ! env -u PYTHONHOME PYTHONPATH="$venv/tempest-$v" \
                        "$venv/bin/python" "$_NCV_ROOT/tools/tempest_schemas.py" \
                        "$venv/tempest-$v.json" >>"$log" 2>&1; then
                    rc=1
                    break
                fi
                rm -rf -- "$venv/tempest-$v"  # 18 MB each: the JSON is all that is read
            done
        fi
        if [[ $rc == 0 ]]; then
            touch -- "$venv/.nova-test-complete"
            _ncv_log "$venv installed"
        else
            _ncv_log "installing $venv failed; the end of $log:"
            tail -n 20 -- "$log" >&2
        fi
    fi
    [[ -n "$lockfd" ]] && exec {lockfd}>&-
    [[ $rc == 0 ]] || return 1
    export NOVA_TEST_CLIENT_VENV=$venv
}
