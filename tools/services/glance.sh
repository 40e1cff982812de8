# shellcheck shell=bash
#
# A real Glance v2 test server, sourced by tools/test-services.sh (which
# provides the _nts_* helpers and stop_test_services).
#
#     start_glance DIR [noauth|keystone]
#
# runs Glance 33.0.0 (from PyPI, tools/glance-requirements.txt) on
# 127.0.0.1 with a SQLite database and a file store in DIR/glance, and
# exports NOVA_TEST_GLANCE_URL=http://127.0.0.1:PORT.
#
# noauth (the default): paste flavor "" (Glance's unauthenticated context:
# every request is an admin's, with no project), Glance's old default
# policy (new RBAC defaults refuse a request without a project).
# keystone: paste flavor "keystone" with a [keystone_authtoken] section at
# the Keystone test server (tools/services/keystone.sh: NOVA_TEST_KEYSTONE_URL,
# NOVA_TEST_KEYSTONE_PASSWORD), as its service user "glance" of project
# "service" (default domain); Glance's own default policy (secure RBAC:
# a project's member creates and uploads its images, only an admin makes
# one public).
#
#     start_glance_keystone DIR
#
# runs a second, Keystone-mode Glance in DIR/glance-keystone beside the
# noauth one and exports its URL as NOVA_TEST_GLANCE_KEYSTONE_URL
# (NOVA_TEST_GLANCE_URL stays the noauth one's); the README's clouds.yaml
# walkthrough (tests/compat/test_keystone_walkthrough.py) uses it.
#
# Glance lives in its own virtualenv, $NOVA_TEST_CACHE/glance-venv (default
# .cache/glance-venv), installed with pip on first use (about a minute) and
# reused while its stamp (requirements, Python) matches; the install keeps
# an empty, migrated database there (glance-template.sqlite, made by
# "glance-manage db_sync", which works on SQLite), copied at every start.
# gunicorn serves glance.wsgi.api:application (one process, four threads).
# Files in DIR/glance: glance-api.conf, gunicorn.conf.py, glance.sqlite,
# images/ (the file store), staging/, tasks/, lock/, glance.pid, glance.log.

_nts_glance_requirements() {
    printf '%s' "$_NTS_ROOT/tools/glance-requirements.txt"
}

_nts_glance_stamp() {
    # _nts_glance_stamp PYTHON: what decides the virtualenv's contents
    cat -- "$(_nts_glance_requirements)"
    "$1" -c 'import sys; print(sys.executable); print(sys.version)'
    echo "template-db-1"
}

_nts_glance_ready() {
    # _nts_glance_ready VENV: the server and its template database there?
    [[ -x "$1/bin/gunicorn" && -s "$1/glance-template.sqlite" ]] &&
        [[ -s "$1/etc/glance/glance-api-paste.ini" ]]
}

_nts_glance_prepare() {
    # _nts_glance_prepare VENV: an empty, migrated database ("glance-manage
    # db_sync" works on SQLite), copied at each start
    local tmp rc=0
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/glance-template.XXXXXX") || return 1
    _nts_glance_write_config "$tmp" "$1" "$1/glance-template.sqlite" 9292 noauth &&
        env -u PYTHONPATH -u PYTHONHOME "$1/bin/glance-manage" \
            --config-file "$tmp/glance-api.conf" db_sync || rc=1
    rm -rf -- "$tmp"
    return "$rc"
}

_nts_glance_write_config() {
    # _nts_glance_write_config DIR VENV DATABASE PORT MODE
    local dir=$1 venv=$2 database=$3 port=$4 mode=$5 flavor=""
    [[ $mode == keystone ]] && flavor=keystone
    cat >"$dir/glance-api.conf" <<EOC || return 1
# Written by tools/services/glance.sh (start_glance) for the tests.
[DEFAULT]
enabled_backends = fs:file
worker_self_reference_url = http://127.0.0.1:$port
enabled_import_methods = []
show_multiple_locations = false
debug = false

[database]
connection = sqlite:///$database

[glance_store]
default_backend = fs

[fs]
filesystem_store_datadir = $dir/images

[os_glance_staging_store]
filesystem_store_datadir = $dir/staging

[os_glance_tasks_store]
filesystem_store_datadir = $dir/tasks

[paste_deploy]
flavor = $flavor
config_file = $venv/etc/glance/glance-api-paste.ini

[oslo_concurrency]
lock_path = $dir/lock
EOC
    if [[ $mode == keystone ]]; then
        cat >>"$dir/glance-api.conf" <<EOC || return 1

[keystone_authtoken]
www_authenticate_uri = $NOVA_TEST_KEYSTONE_URL
auth_url = $NOVA_TEST_KEYSTONE_URL/v3
auth_type = password
username = glance
password = ${NOVA_TEST_KEYSTONE_PASSWORD:-}
project_name = service
user_domain_id = default
project_domain_id = default
EOC
    else
        cat >>"$dir/glance-api.conf" <<'EOC' || return 1

[oslo_policy]
# Without Keystone every request is an admin's without a project, which
# Glance's secure-RBAC defaults refuse (403); its old defaults allow it.
enforce_new_defaults = false
enforce_scope = false
EOC
    fi
    cat >"$dir/gunicorn.conf.py" <<EOC
# Written by tools/services/glance.sh (start_glance) for the tests.
wsgi_app = "glance.wsgi.api:application"
bind = "127.0.0.1:$port"
workers = 1
threads = 4
worker_class = "gthread"
timeout = 120
graceful_timeout = 10
pidfile = $(_nts_py_str "$dir/glance.pid")
accesslog = "-"
errorlog = "-"
proc_name = "glance-api"
# gunicorn 27 opens a control socket in ~/.gunicorn by default.
control_socket_disable = True
EOC
}

# Make sure Glance's virtualenv is there; sets _NTS_GLANCE_VENV.
_nts_glance_ensure_venv() {
    _NTS_GLANCE_VENV=
    _nts_cached_venv glance _nts_glance_stamp _nts_glance_ready _nts_glance_prepare \
        -r "$(_nts_glance_requirements)" || return 1
    _NTS_GLANCE_VENV=$_NTS_VENV
}

start_glance() {
    local dir venv logfile url port attempt pid rc t0 mode=${2:-noauth}
    local timeout=${NOVA_TEST_START_TIMEOUT:-60} logsize
    t0=$(_nts_now)
    case $mode in
        noauth) ;;
        keystone)
            if [[ -z "${NOVA_TEST_KEYSTONE_URL:-}" || -z "${NOVA_TEST_KEYSTONE_PASSWORD:-}" ]]; then
                _nts_log "start_glance: keystone mode needs NOVA_TEST_KEYSTONE_URL" \
                    "and NOVA_TEST_KEYSTONE_PASSWORD (start_keystone)"
                return 1
            fi ;;
        *) _nts_log "start_glance: unknown mode $mode (noauth or keystone)"
           return 1 ;;
    esac
    _nts_prepare_dir "${1:-}" || return 1
    dir=$_NTS_DIR/glance
    logfile="$dir/glance.log"
    if pid=$(_nts_registered_pid "$dir/glance.pid"); then
        _nts_log "glance already running in $dir (pid $pid)"
        return 0
    fi
    _nts_glance_ensure_venv || return 1
    venv=$_NTS_GLANCE_VENV
    mkdir -p -- "$dir/images" "$dir/staging" "$dir/tasks" "$dir/lock" || return 1
    cp -- "$venv/glance-template.sqlite" "$dir/glance.sqlite" || return 1
    : >"$logfile" || return 1

    for attempt in 1 2 3; do
        port=$(_nts_free_port) || return 1
        url="http://127.0.0.1:$port"
        _nts_glance_write_config "$dir" "$venv" "$dir/glance.sqlite" "$port" \
            "$mode" || return 1
        rm -f -- "$dir/glance.pid"
        logsize=$(stat -c %s -- "$logfile") || return 1
        # Glance reads its configuration from OS_GLANCE_CONFIG_DIR (not from
        # its command line); gunicorn's settings come from the config file.
        (cd -- "$dir" && exec env -u PYTHONPATH -u PYTHONHOME \
            OS_GLANCE_CONFIG_DIR="$dir" \
            GUNICORN_CMD_ARGS="--config=$(printf '%q' "$dir/gunicorn.conf.py")" \
            "$venv/bin/gunicorn") </dev/null >>"$logfile" 2>&1 &
        pid=$!
        _nts_register glance "$dir/glance.pid" "$pid"

        rc=0
        # The version list answers without a token in both modes, with 300
        # ("multiple choices").
        _nts_http_wait "$url/" "$pid" "$timeout" 200 300 || rc=$?
        [[ $rc == 0 ]] && break
        if [[ $rc == 1 ]]; then
            _nts_log "start_glance: $url did not answer in ${timeout}s"
            _nts_log_tail glance "$logfile"
            return 1
        fi
        wait "$pid" 2>/dev/null || true
        if [[ $attempt -lt 3 ]] && tail -c +"$((logsize + 1))" -- "$logfile" |
                grep -q 'Connection in use'; then
            _nts_log "start_glance: port $port was taken, retrying"
            continue
        fi
        _nts_log "start_glance: the Glance server exited during start-up"
        _nts_log_tail glance "$logfile"
        return 1
    done

    export NOVA_TEST_GLANCE_URL=$url
    _nts_log "glance $(_nts_glance_version "$venv") ($mode) on 127.0.0.1:$port" \
        "(pid $pid, ready in $(_nts_elapsed "$t0")s, log $logfile)"
    return 0
}

start_glance_keystone() {
    # start_glance_keystone DIR: a Keystone-mode Glance in DIR/glance-keystone;
    # exports NOVA_TEST_GLANCE_KEYSTONE_URL, leaves NOVA_TEST_GLANCE_URL alone.
    local noauth_url=${NOVA_TEST_GLANCE_URL-} had_url=${NOVA_TEST_GLANCE_URL+set}
    if [[ -z "${1:-}" ]]; then
        _nts_log "start_glance_keystone: a directory argument is required"
        return 1
    fi
    start_glance "$1/glance-keystone" keystone || return 1
    export NOVA_TEST_GLANCE_KEYSTONE_URL=$NOVA_TEST_GLANCE_URL
    if [[ $had_url == set ]]; then
        export NOVA_TEST_GLANCE_URL=$noauth_url
    else
        unset NOVA_TEST_GLANCE_URL
    fi
}

_nts_glance_version() {
    "$1/bin/python" -c 'from importlib import metadata; print(metadata.version("glance"))' \
        2>/dev/null || printf '?'
}

