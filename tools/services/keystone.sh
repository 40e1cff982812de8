# shellcheck shell=bash
#
# A real Keystone (keystone 30.0.0 from PyPI) for the integration tests.
#
# Sourced by tools/test-services.sh (it uses that file's _nts_* helpers):
#
#     start_keystone DIR
#
# runs Keystone's public WSGI application under gunicorn on 127.0.0.1 (a
# free port), with a SQLite database and fernet tokens, everything in
# DIR/keystone. The virtualenv, installed from tools/keystone-requirements.txt
# (pinned, --no-deps), is kept in ${NOVA_TEST_CACHE:-.cache}/keystone-venv
# with a template made once by keystone-manage (db_sync, fernet_setup,
# credential_setup, bootstrap); each start copies it, so a start takes the
# few seconds Keystone needs to import. tools/keystone_setup.py then points
# the identity endpoints at the port and registers (see that file):
#
#     roles     admin, member, reader, service
#     projects  demo, alt, service (and bootstrap's admin)
#     users     admin (admin of admin, demo, alt), demo-member, demo-reader,
#               alt-member, nova, quantum, glance (service + admin of service)
#     services  identity (with endpoints), compute, network, image (none:
#               tests register the endpoints of the servers they start)
#
# and exports
#
#     NOVA_TEST_KEYSTONE_URL       http://127.0.0.1:PORT (auth_url: .../v3)
#     NOVA_TEST_KEYSTONE_PASSWORD  every user's password
#
# The server is registered with _nts_register: stop_test_services stops it.

_NKS_PASSWORD=nova-test-keystone

_nks_stamp() {
    # _nks_stamp PYTHON: what decides the virtualenv's packages
    cat -- "$_NTS_ROOT/tools/keystone-requirements.txt"
    "$1" -c 'import sys; print(sys.executable); print(sys.version)'
}

_nks_template_stamp() {
    # What decides the template's contents
    {
        printf '%s\n' "$_NKS_PASSWORD"
        declare -f _nks_write_config _nks_build_template
        cat -- "$_NTS_ROOT/tools/keystone_setup.py"
    } | sha256sum | cut -d' ' -f1
}

_nks_ready() {
    # _nks_ready VENV: the server there, and its template made by this file's recipe?
    [[ -x "$1/bin/gunicorn" && -x "$1/bin/keystone-manage" ]] && _nks_template_ok "$1"
}

_nks_prepare() {
    # _nks_prepare VENV: the template database and keys every start copies
    _nks_build_template "$1" && _nks_template_stamp >"$1/template/.stamp"
}

_nks_template_ok() {
    # _nks_template_ok VENV: the template made, and by this file's recipe?
    [[ -s "$1/template/keystone.sqlite" && -f "$1/template/.stamp" ]] &&
        [[ "$(cat -- "$1/template/.stamp")" == "$(_nks_template_stamp)" ]]
}

_nks_write_config() {
    # _nks_write_config DIR: DIR/keystone.conf for the files in DIR
    local dir=$1
    cat >"$dir/keystone.conf" <<EOF
# Written by tools/services/keystone.sh for the tests.
[DEFAULT]
debug = false
use_stderr = true

[database]
connection = sqlite:///$dir/keystone.sqlite

[token]
provider = fernet
expiration = 3600

[fernet_tokens]
key_repository = $dir/fernet-keys

[fernet_receipts]
key_repository = $dir/fernet-keys

[credential]
key_repository = $dir/credential-keys

[identity]
# bcrypt's least work factor: users and tokens are made in milliseconds.
password_hash_rounds = 4

[cache]
# In memory, in Keystone's one process: a token is validated in milliseconds
# rather than a second, and a revocation clears it at once.
enabled = true
backend = dogpile.cache.memory

[oslo_policy]
enforce_scope = false
enforce_new_defaults = false
EOF
}

_nks_manage() {
    # _nks_manage VENV DIR ARGS...: keystone-manage on DIR/keystone.conf
    local venv=$1 dir=$2
    shift 2
    env -u PYTHONPATH -u PYTHONHOME "$venv/bin/keystone-manage" \
        --config-file "$dir/keystone.conf" "$@"
}

_nks_build_template() {
    # _nks_build_template VENV: the database and keys every start copies
    local venv=$1 t="$1/template" user group rc=0
    user=$(id -un) && group=$(id -gn) || return 1
    rm -rf -- "$t" && mkdir -p -- "$t" || return 1
    _nks_write_config "$t" || return 1
    _nks_manage "$venv" "$t" db_sync || return 1
    _nks_manage "$venv" "$t" fernet_setup --keystone-user "$user" \
        --keystone-group "$group" || return 1
    _nks_manage "$venv" "$t" credential_setup --keystone-user "$user" \
        --keystone-group "$group" || return 1
    # The identity endpoints are set to the real port at each start.
    _nks_manage "$venv" "$t" bootstrap --bootstrap-password "$_NKS_PASSWORD" \
        --bootstrap-username admin --bootstrap-project-name admin \
        --bootstrap-role-name admin --bootstrap-service-name keystone \
        --bootstrap-region-id RegionOne \
        --bootstrap-admin-url http://127.0.0.1:1/v3 \
        --bootstrap-internal-url http://127.0.0.1:1/v3 \
        --bootstrap-public-url http://127.0.0.1:1/v3 || return 1
    # The test identities, registered once through the API (a few dozen
    # calls: seconds that each start would otherwise pay).
    _nks_serve "$venv" "$t" || return 1
    _nks_setup "$venv" "$t" register || rc=$?
    kill -s TERM "$_NKS_PID" 2>/dev/null
    wait "$_NKS_PID" 2>/dev/null
    [[ $rc == 0 ]] || return 1
    rm -f -- "$t/keystone.conf" "$t/gunicorn.conf.py" "$t/keystone.pid" "$t/keystone.log" \
        "$t/setup.log"
}

_nks_serve() {
    # _nks_serve VENV DIR: start Keystone on DIR/keystone.conf; sets _NKS_PID
    # and _NKS_URL (0), or returns 1 (the log's tail printed)
    local venv=$1 dir=$2 port attempt logsize rc
    local timeout=${NOVA_TEST_START_TIMEOUT:-60}
    local logfile="$dir/keystone.log"
    : >>"$logfile" || return 1
    for attempt in 1 2 3; do
        port=$(_nts_free_port) || return 1
        _NKS_URL="http://127.0.0.1:$port"
        _nks_write_gunicorn_config "$dir" "$port" || return 1
        rm -f -- "$dir/keystone.pid"
        logsize=$(stat -c %s -- "$logfile") || return 1
        # Keystone parses sys.argv as its own command line: gunicorn gets
        # its settings from GUNICORN_CMD_ARGS, and no arguments.
        (cd -- "$dir" && exec env -u PYTHONPATH -u PYTHONHOME \
            OS_KEYSTONE_CONFIG_FILES="$dir/keystone.conf" \
            GUNICORN_CMD_ARGS="--config=$(printf '%q' "$dir/gunicorn.conf.py")" \
            "$venv/bin/gunicorn") </dev/null >>"$logfile" 2>&1 &
        _NKS_PID=$!
        rc=0
        _nts_http_wait "$_NKS_URL/v3" "$_NKS_PID" "$timeout" || rc=$?
        [[ $rc == 0 ]] && return 0
        if [[ $rc == 1 ]]; then
            _nts_log "start_keystone: $_NKS_URL/v3 did not answer 200 in ${timeout}s"
            _nts_log_tail keystone "$logfile"
            kill -s TERM "$_NKS_PID" 2>/dev/null
            return 1
        fi
        wait "$_NKS_PID" 2>/dev/null || true
        if [[ $attempt -lt 3 ]] && tail -c +"$((logsize + 1))" -- "$logfile" |
                grep -q 'Connection in use'; then
            _nts_log "start_keystone: port $port was taken, retrying"
            continue
        fi
        break
    done
    _nts_log "start_keystone: Keystone exited during start-up"
    _nts_log_tail keystone "$logfile"
    return 1
}

_nks_setup() {
    # _nks_setup VENV DIR MODE: tools/keystone_setup.py against _NKS_URL
    if ! env -u PYTHONPATH -u PYTHONHOME "$1/bin/python" \
            "$_NTS_ROOT/tools/keystone_setup.py" "$_NKS_URL" "$_NKS_PASSWORD" "$3" \
            >>"$2/setup.log" 2>&1; then
        _nts_log "start_keystone: tools/keystone_setup.py $3 failed"
        _nts_log_tail "keystone setup" "$2/setup.log"
        return 1
    fi
}

# Make sure Keystone's virtualenv is there; sets _NKS_VENV.
_nks_ensure_venv() {
    _NKS_VENV=
    _nts_cached_venv keystone _nks_stamp _nks_ready _nks_prepare --no-deps \
        -r "$_NTS_ROOT/tools/keystone-requirements.txt" || return 1
    _NKS_VENV=$_NTS_VENV
}

_nks_write_gunicorn_config() {
    # _nks_write_gunicorn_config DIR PORT
    local dir=$1 port=$2
    cat >"$dir/gunicorn.conf.py" <<EOF
# Written by tools/services/keystone.sh for the tests.
wsgi_app = "keystone.server.wsgi:initialize_public_application()"
bind = "127.0.0.1:$port"
# One process (its in-memory cache is the only one), threads for the
# services' concurrent token checks.
workers = 1
threads = 8
worker_class = "gthread"
timeout = 120
graceful_timeout = 5
pidfile = $(_nts_py_str "$dir/keystone.pid")
accesslog = "-"
errorlog = "-"
proc_name = "keystone"
control_socket_disable = True
EOF
}

start_keystone() {
    local dir venv logfile url pid t0
    t0=$(_nts_now)
    _nts_prepare_dir "${1:-}" || return 1
    dir="$_NTS_DIR/keystone"
    logfile="$dir/keystone.log"
    if pid=$(_nts_registered_pid "$dir/keystone.pid"); then
        _nts_log "keystone already running in $dir (pid $pid)"
        return 0
    fi
    _nks_ensure_venv || return 1
    venv=$_NKS_VENV
    rm -rf -- "$dir" && mkdir -p -- "$dir" || return 1
    cp -a -- "$venv/template/." "$dir/" || return 1
    _nks_write_config "$dir" || return 1
    : >"$logfile" || return 1

    _nks_serve "$venv" "$dir" || return 1
    pid=$_NKS_PID
    url=$_NKS_URL
    _nts_register keystone "$dir/keystone.pid" "$pid"
    _nks_setup "$venv" "$dir" endpoints || return 1
    export NOVA_TEST_KEYSTONE_URL=$url
    export NOVA_TEST_KEYSTONE_PASSWORD=$_NKS_PASSWORD
    _nts_log "keystone 30.0.0 on ${url#http://} (pid $pid, ready in" \
        "$(_nts_elapsed "$t0")s, log $logfile)"
    return 0
}
