# shellcheck shell=bash
#
# Private servers for the integration tests: PostgreSQL, MariaDB, a real
# Neutron API server and RabbitMQ.
#
# This file is a library: source it, do not execute it.
#
#     source tools/test-services.sh
#     dir=$(mktemp -d)
#     trap stop_test_services EXIT
#     start_postgresql "$dir"   # exports NOVA_TEST_POSTGRESQL_URL
#     start_mysql "$dir"        # exports NOVA_TEST_MYSQL_URL
#     start_neutron "$dir"      # exports NOVA_TEST_NEUTRON_URL and
#                               # NOVA_TEST_NEUTRON_HOST
#     start_rabbitmq "$dir"     # exports NOVA_TEST_RABBIT_URL and
#                               # NOVA_TEST_RABBIT_RESTART
#     restart_rabbitmq "$dir"   # stop it and start it again, same port
#     ...
#     stop_test_services        # safe to call more than once
#
# Every server listens on 127.0.0.1 only, on a free TCP port, with its data,
# unix socket, pid file and log inside DIR.  The servers keep their default
# durability settings (fsync etc.), so timings taken against them are honest.
#
# When run as root, PostgreSQL runs as the "postgres" system user, MariaDB
# as the "mysql" system user and RabbitMQ as the "rabbitmq" system user,
# since PostgreSQL refuses to run as root.
#
# Neutron (neutron 29 from PyPI) runs from its own virtualenv, kept between
# runs in a cache directory (see start_neutron below).
#
# Environment knobs (all optional):
#     NOVA_TEST_PG_BINDIR   directory holding initdb/pg_ctl/postgres
#                           (default: newest /usr/lib/postgresql/*/bin)
#     NOVA_TEST_START_TIMEOUT  seconds to wait for a server (default 60)
#     NOVA_TEST_CACHE       cache directory kept between runs (default:
#                           .cache in the repository); holds neutron-venv
#     NOVA_TEST_NEUTRON_PYTHON  Python (3.11+) for Neutron's virtualenv
#                           (default: the first python3, python3.11 ...
#                           on PATH that is new enough)
#     NOVA_TEST_NEUTRON_HOST  host name of the fake Open vSwitch agent
#                           (default nova-test-host)
#     NOVA_TEST_KEEP_DATA   1: stop_test_services stops the servers but
#                           leaves their directories (a later start_* in the
#                           same DIR finds PostgreSQL's and MariaDB's data)
#
# A shell other than the one that started the servers stops them with
#     adopt_test_services DIR   # registers the servers whose PID files are
#     stop_test_services        # in DIR (e.g. ./run_nova.sh --cluster stop)
#
# The functions work with or without `set -euo pipefail` in the caller and
# return non-zero on failure (after printing the tail of the server log).

# Registered servers, one entry per server: "KIND|PIDFILE|PID".
_NTS_SERVERS=()
# The repository this library belongs to.
_NTS_ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
# Directories used by start_* calls: "DIR|OWNED" (OWNED=1 when the directory
# was empty or missing at first use, so stop_test_services may remove it).
_NTS_DIRS=()
# Functions stop_test_services calls before it stops the servers, and after
# (before it removes the directories): tools/services/*.sh add theirs.
_NTS_STOP_HOOKS=()
_NTS_AFTER_STOP_HOOKS=()

_nts_log() {
    printf '%s\n' "$*" >&2
}

_nts_now() {
    # Seconds since the epoch with sub-second precision (bash >= 5).
    if [[ -n "${EPOCHREALTIME:-}" ]]; then
        printf '%s' "${EPOCHREALTIME/,/.}"
    else
        date +%s.%N
    fi
}

_nts_elapsed() {
    # _nts_elapsed START -> "1.23"
    awk -v s="$1" -v e="$(_nts_now)" 'BEGIN { printf "%.2f", e - s }'
}

_nts_is_root() {
    [[ "$(id -u)" == 0 ]]
}

_nts_free_port() {
    python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

_nts_log_tail() {
    # _nts_log_tail NAME LOGFILE
    if [[ -s "$2" ]]; then
        _nts_log "---- last lines of $1 log ($2) ----"
        tail -n 40 "$2" >&2
        _nts_log "---- end of $1 log ----"
    else
        _nts_log "($1 log $2 is empty or missing)"
    fi
}

# Prepare DIR (create it, make it absolute, remember it); sets _NTS_DIR to
# its absolute path.  Not to be called in a subshell.
_nts_prepare_dir() {
    local dir=$1 owned=0 entry abs
    _NTS_DIR=
    if [[ -z "$dir" ]]; then
        _nts_log "test-services: a directory argument is required"
        return 1
    fi
    if [[ ! -e "$dir" ]]; then
        mkdir -p -- "$dir" || return 1
        owned=1
    elif [[ ! -d "$dir" ]]; then
        _nts_log "test-services: $dir is not a directory"
        return 1
    elif [[ -z "$(ls -A -- "$dir")" ]]; then
        owned=1
    fi
    abs=$(cd -- "$dir" && pwd -P) || return 1
    for entry in "${_NTS_DIRS[@]}"; do
        if [[ "${entry%|*}" == "$abs" ]]; then
            _NTS_DIR=$abs
            return 0
        fi
    done
    _NTS_DIRS+=("$abs|$owned")
    _NTS_DIR=$abs
}

# Is PID alive and running one of the given program names (glob patterns
# matched against /proc/PID/comm)?
_nts_pid_is() {
    local pid=$1 comm state
    shift
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    [[ -r "/proc/$pid/comm" ]] || return 1
    comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
    state=$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null) || return 1
    [[ "$state" != Z ]] || return 1
    local name
    for name in "$@"; do
        # shellcheck disable=SC2053  # $name is a glob pattern on purpose
        [[ "$comm" == $name ]] && return 0
    done
    return 1
}

# The program names (for _nts_pid_is) of every kind of server.  Gunicorn
# renames itself "gunicorn: master [...]" (comm keeps 15 characters).
# RabbitMQ is the Erlang VM, beam.smp, with its own epmd.
_NTS_PROGRAMS=(postgres mariadbd mysqld 'gunicorn*' beam.smp epmd)

# Run a command as USER when we are root, as ourselves otherwise.
_nts_as() {
    local user=$1
    shift
    if _nts_is_root; then
        runuser -u "$user" -- "$@"
    else
        "$@"
    fi
}

_nts_pg_bindir() {
    local d
    if [[ -n "${NOVA_TEST_PG_BINDIR:-}" ]]; then
        printf '%s' "$NOVA_TEST_PG_BINDIR"
        return 0
    fi
    d=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -type d -name bin \
            2>/dev/null | sort -V | tail -n 1)
    if [[ -n "$d" && -x "$d/pg_ctl" ]]; then
        printf '%s' "$d"
        return 0
    fi
    d=$(command -v pg_ctl 2>/dev/null) || true
    if [[ -n "$d" ]]; then
        dirname -- "$d"
        return 0
    fi
    return 1
}

_nts_register() {
    # _nts_register KIND PIDFILE PID
    _NTS_SERVERS+=("$1|$2|$3")
}

_nts_registered_pid() {
    # _nts_registered_pid PIDFILE -> prints a PID of a live server, if any
    local entry kind pidfile pid
    for entry in "${_NTS_SERVERS[@]}"; do
        IFS='|' read -r kind pidfile pid <<<"$entry"
        [[ "$pidfile" == "$1" ]] || continue
        if [[ -s "$pidfile" ]]; then
            pid=$(head -n 1 "$pidfile" 2>/dev/null | tr -dc '0-9')
        fi
        if _nts_pid_is "$pid" "${_NTS_PROGRAMS[@]}"; then
            printf '%s' "$pid"
            return 0
        fi
    done
    return 1
}

# --------------------------------------------------------------------------
# PostgreSQL
# --------------------------------------------------------------------------

start_postgresql() {
    local dir bindir pgdata sockdir logfile port version attempt pid t0
    local timeout=${NOVA_TEST_START_TIMEOUT:-60} locale=C
    t0=$(_nts_now)
    _nts_prepare_dir "${1:-}" || return 1
    dir=$_NTS_DIR
    pgdata="$dir/pg"
    sockdir="$dir/pg-socket"
    logfile="$dir/pg.log"

    if pid=$(_nts_registered_pid "$pgdata/postmaster.pid"); then
        _nts_log "postgresql already running in $dir (pid $pid)"
        return 0
    fi

    if ! bindir=$(_nts_pg_bindir); then
        _nts_log "start_postgresql: no PostgreSQL server binaries found" \
            "(install the postgresql package)"
        return 1
    fi

    mkdir -p -- "$pgdata" "$sockdir" || return 1
    touch -- "$logfile" || return 1
    if _nts_is_root; then
        if ! id postgres >/dev/null 2>&1; then
            _nts_log "start_postgresql: running as root but there is no" \
                "'postgres' system user"
            return 1
        fi
        # postgres must be able to traverse DIR and own its own parts.
        chmod o+x -- "$dir" || return 1
        chown postgres: -- "$pgdata" "$sockdir" "$logfile" || return 1
        chmod 0700 -- "$pgdata" || return 1
        if ! runuser -u postgres -- test -w "$pgdata"; then
            _nts_log "start_postgresql: user postgres cannot write $pgdata" \
                "(is every parent directory of $dir world-searchable?)"
            return 1
        fi
    fi

    if locale -a 2>/dev/null | grep -qix 'c\.utf-\?8'; then
        locale=C.UTF-8
    fi

    if [[ ! -s "$pgdata/PG_VERSION" ]]; then
        # --no-sync only skips initdb's final flush of the freshly created
        # files; the running server keeps all its default settings.
        if ! (cd -- "$dir" && _nts_as postgres "$bindir/initdb" \
                -D "$pgdata" --auth=trust --username=nova --encoding=UTF8 \
                --locale="$locale" --no-sync) >>"$logfile" 2>&1; then
            _nts_log "start_postgresql: initdb failed"
            _nts_log_tail postgresql "$logfile"
            return 1
        fi
    fi
    version=$(cat "$pgdata/PG_VERSION")

    for attempt in 1 2 3; do
        port=$(_nts_free_port) || return 1
        # Appended settings win over earlier ones, so retries just append.
        {
            printf '\n# added by tools/test-services.sh\n'
            printf "listen_addresses = '127.0.0.1'\n"
            printf 'port = %s\n' "$port"
            printf "unix_socket_directories = '%s'\n" "${sockdir//\'/\'\'}"
        } >>"$pgdata/postgresql.conf" || return 1

        if (cd -- "$dir" && _nts_as postgres "$bindir/pg_ctl" -D "$pgdata" \
                -l "$logfile" -w -t "$timeout" start) >>"$logfile.ctl" 2>&1
        then
            break
        fi
        pid=$(head -n 1 "$pgdata/postmaster.pid" 2>/dev/null | tr -dc '0-9')
        if [[ -n "$pid" ]] && _nts_pid_is "$pid" postgres; then
            # Started but not ready in time: register so that it gets
            # stopped, and give up.
            _nts_register postgresql "$pgdata/postmaster.pid" "$pid"
            _nts_log "start_postgresql: server did not become ready in" \
                "${timeout}s"
            _nts_log_tail postgresql "$logfile"
            return 1
        fi
        if [[ $attempt -lt 3 ]] && grep -q 'Address already in use' "$logfile"
        then
            _nts_log "start_postgresql: port $port was taken, retrying"
            : >"$logfile"
            continue
        fi
        _nts_log "start_postgresql: pg_ctl start failed"
        [[ -s "$logfile.ctl" ]] && tail -n 10 "$logfile.ctl" >&2
        _nts_log_tail postgresql "$logfile"
        return 1
    done

    pid=$(head -n 1 "$pgdata/postmaster.pid" 2>/dev/null | tr -dc '0-9')
    _nts_register postgresql "$pgdata/postmaster.pid" "$pid"

    # pg_ctl -w already waited for "ready"; make sure TCP works as well.
    local i=0
    until "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -U nova \
            -d postgres -t 2; do
        i=$((i + 1))
        if [[ $i -ge $((timeout * 10)) ]] || ! _nts_pid_is "$pid" postgres
        then
            _nts_log "start_postgresql: server does not accept TCP" \
                "connections on 127.0.0.1:$port"
            _nts_log_tail postgresql "$logfile"
            return 1
        fi
        sleep 0.1
    done

    export NOVA_TEST_POSTGRESQL_URL="postgresql+psycopg://nova@127.0.0.1:$port/postgres"
    _nts_log "postgresql $version on 127.0.0.1:$port" \
        "(pid $pid, ready in $(_nts_elapsed "$t0")s, log $logfile)"
    return 0
}

# --------------------------------------------------------------------------
# MariaDB
# --------------------------------------------------------------------------

_nts_mysql_client() {
    local c
    for c in mariadb mysql; do
        if command -v "$c" >/dev/null 2>&1; then
            printf '%s' "$c"
            return 0
        fi
    done
    return 1
}

start_mysql() {
    local dir datadir sock pidfile logfile port version attempt pid t0
    local server installdb client i ready
    local timeout=${NOVA_TEST_START_TIMEOUT:-60}
    local -a user_opt=()
    t0=$(_nts_now)
    _nts_prepare_dir "${1:-}" || return 1
    dir=$_NTS_DIR
    datadir="$dir/mysql"
    sock="$dir/mysql.sock"
    pidfile="$dir/mysql.pid"
    logfile="$dir/mysql.log"

    if pid=$(_nts_registered_pid "$pidfile"); then
        _nts_log "mariadb already running in $dir (pid $pid)"
        return 0
    fi

    server=$(command -v mariadbd 2>/dev/null || true)
    [[ -n "$server" ]] || server=$(command -v mysqld 2>/dev/null || true)
    for i in /usr/sbin/mariadbd /usr/sbin/mysqld; do
        [[ -n "$server" ]] && break
        [[ -x "$i" ]] && server=$i
    done
    installdb=$(command -v mariadb-install-db 2>/dev/null ||
                command -v mysql_install_db 2>/dev/null || true)
    client=$(_nts_mysql_client || true)
    if [[ -z "$server" || -z "$installdb" || -z "$client" ]]; then
        _nts_log "start_mysql: MariaDB server/client binaries not found" \
            "(install the mariadb-server package)"
        return 1
    fi

    touch -- "$logfile" || return 1
    if _nts_is_root; then
        if ! id mysql >/dev/null 2>&1; then
            _nts_log "start_mysql: running as root but there is no 'mysql'" \
                "system user"
            return 1
        fi
        user_opt=(--user=mysql)
        # mariadbd (as mysql) creates its socket and pid file directly in
        # DIR: give the mysql group write access (sticky, like /tmp), and
        # keep DIR searchable for the postgres user and the clients.
        chgrp mysql -- "$dir" && chmod g+rwx,o+x,+t -- "$dir" || return 1
        if ! runuser -u mysql -- test -w "$dir"; then
            _nts_log "start_mysql: user mysql cannot write $dir" \
                "(is every parent directory of $dir world-searchable?)"
            return 1
        fi
    fi

    if [[ ! -d "$datadir/mysql" ]]; then
        rm -rf -- "$datadir"
        if ! (cd -- "$dir" && "$installdb" --no-defaults --datadir="$datadir" \
                "${user_opt[@]}" --auth-root-authentication-method=normal \
                --skip-test-db --skip-name-resolve --skip-log-bin) \
                >>"$logfile" 2>&1; then
            _nts_log "start_mysql: mariadb-install-db failed"
            _nts_log_tail mariadb "$logfile"
            return 1
        fi
    fi

    version=$("$server" --version 2>/dev/null |
              sed -n 's/.*Ver \([0-9][0-9.]*\).*/\1/p')

    for attempt in 1 2 3; do
        port=$(_nts_free_port) || return 1
        rm -f -- "$pidfile"
        # --no-defaults keeps /etc/mysql out of it (the system socket path,
        # log files ...); utf8mb4 matches Debian's packaged server default.
        (cd -- "$dir" && exec "$server" --no-defaults "${user_opt[@]}" \
            --datadir="$datadir" --bind-address=127.0.0.1 --port="$port" \
            --socket="$sock" --pid-file="$pidfile" --skip-log-bin \
            --skip-name-resolve --character-set-server=utf8mb4 \
            --collation-server=utf8mb4_general_ci) \
            </dev/null >>"$logfile" 2>&1 &
        pid=$!
        _nts_register mariadb "$pidfile" "$pid"

        ready=0
        for ((i = 0; i < timeout * 10; i++)); do
            if "$client" --no-defaults --protocol=socket --socket="$sock" \
                    -uroot --connect-timeout=2 -e 'SELECT 1' \
                    >/dev/null 2>&1; then
                ready=1
                break
            fi
            _nts_pid_is "$pid" mariadbd mysqld || break
            sleep 0.1
        done
        [[ $ready == 1 ]] && break

        if _nts_pid_is "$pid" mariadbd mysqld; then
            _nts_log "start_mysql: server did not become ready in ${timeout}s"
            _nts_log_tail mariadb "$logfile"
            return 1
        fi
        wait "$pid" 2>/dev/null || true
        if [[ $attempt -lt 3 ]] &&
                grep -qi 'address already in use' "$logfile"; then
            _nts_log "start_mysql: port $port was taken, retrying"
            continue
        fi
        _nts_log "start_mysql: mariadbd exited during start-up"
        _nts_log_tail mariadb "$logfile"
        return 1
    done

    if ! "$client" --no-defaults --protocol=socket --socket="$sock" -uroot \
            >>"$logfile" 2>&1 <<'SQL'
CREATE USER IF NOT EXISTS 'nova'@'%' IDENTIFIED BY 'nova';
GRANT ALL PRIVILEGES ON *.* TO 'nova'@'%' WITH GRANT OPTION;
CREATE USER IF NOT EXISTS 'nova'@'localhost' IDENTIFIED BY 'nova';
GRANT ALL PRIVILEGES ON *.* TO 'nova'@'localhost' WITH GRANT OPTION;
SQL
    then
        _nts_log "start_mysql: could not create the nova user"
        _nts_log_tail mariadb "$logfile"
        return 1
    fi
    if ! "$client" --no-defaults --protocol=tcp -h 127.0.0.1 -P "$port" \
            -unova -pnova -e 'SELECT 1' >/dev/null 2>>"$logfile"; then
        _nts_log "start_mysql: nova cannot log in over TCP on" \
            "127.0.0.1:$port"
        _nts_log_tail mariadb "$logfile"
        return 1
    fi

    export NOVA_TEST_MYSQL_URL="mysql+pymysql://nova:nova@127.0.0.1:$port/mysql?charset=utf8mb4"
    _nts_log "mariadb ${version:-?} on 127.0.0.1:$port" \
        "(pid $pid, ready in $(_nts_elapsed "$t0")s, log $logfile)"
    return 0
}

# --------------------------------------------------------------------------
# Neutron
# --------------------------------------------------------------------------
#
# start_neutron DIR runs a real Neutron API server (neutron 29 from PyPI,
# ML2 with the openvswitch mechanism driver, no authentication) on
# 127.0.0.1, on a SQLite database in DIR, and registers a fake Open vSwitch
# agent for the host NOVA_TEST_NEUTRON_HOST, so that a port bound to that
# host gets binding:vif_type "ovs" (bridge br-int).  It exports
# NOVA_TEST_NEUTRON_URL=http://127.0.0.1:PORT and NOVA_TEST_NEUTRON_HOST.
#
# Neutron lives in its own virtualenv, $NOVA_TEST_CACHE/neutron-venv (default
# .cache/neutron-venv in the repository), installed with pip on first use
# (about a minute) and reused while its stamp matches.  The install also
# keeps an empty, stamped Neutron database there (neutron-template.sqlite),
# which every start copies into DIR.
#
# The WSGI application is neutron.wsgi.api:application; gunicorn serves it
# with one synchronous worker (one request at a time: on SQLite Neutron
# answers 500 "database is locked" to parallel writes).  Files in DIR:
# neutron.conf, ml2_conf.ini, neutron-gunicorn.conf.py, neutron.sqlite,
# neutron.pid, neutron-state/, neutron.log (the server's log) and
# neutron-setup.log (database copy and agent registration).

# What the virtualenv holds.  Changing this list (or the Python, or the
# database script below) rebuilds the virtualenv on the next start.
_NTS_NEUTRON_PACKAGES=('neutron==29.*' 'gunicorn==27.*')

# Creates Neutron's tables in the SQLite file argv[1] from Neutron's model
# metadata and stamps every Alembic branch at its head ("neutron-db-manage
# upgrade heads" fails on SQLite).  Run with the virtualenv's Python.
_NTS_NEUTRON_DB_PY='
import os
import sqlite3
import sys
import tempfile

import sqlalchemy as sa

from neutron.db.migration.models import head

path = os.path.abspath(sys.argv[1])
url = "sqlite:///" + path
engine = sa.create_engine(url)
head.get_metadata().create_all(engine)
engine.dispose()

with tempfile.TemporaryDirectory() as tmp:
    conf = os.path.join(tmp, "neutron.conf")
    with open(conf, "w") as f:
        f.write("[database]\nconnection = %s\n" % url)
    sys.argv = ["neutron-db-manage", "--config-file", conf, "stamp", "heads"]
    from neutron.db.migration import cli

    cli.main()

with sqlite3.connect(path) as db:
    tables = db.execute("SELECT count(*) FROM sqlite_master WHERE type = ?", ("table",)).fetchone()[0]
    heads = [r[0] for r in db.execute("SELECT version_num FROM alembic_version")]
if tables < 50 or not heads:
    sys.exit("neutron database incomplete: %d tables, heads %s" % (tables, heads))
print("neutron database: %d tables, alembic heads %s" % (tables, " ".join(sorted(heads))))
'

_nts_neutron_python() {
    # Prints a Python 3.11+ with the venv module, for Neutron's virtualenv.
    local c
    local -a candidates=(python3 python3.13 python3.12 python3.11)
    if [[ -n "${NOVA_TEST_NEUTRON_PYTHON:-}" ]]; then
        candidates=("$NOVA_TEST_NEUTRON_PYTHON")
    fi
    for c in "${candidates[@]}"; do
        command -v "$c" >/dev/null 2>&1 || continue
        if "$c" -c 'import sys, venv, ensurepip
sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; then
            command -v "$c"
            return 0
        fi
    done
    return 1
}

# _nts_cached_venv NAME STAMP_FN READY_FN PREPARE_FN PIP_ARGS...: make sure
# the cached virtualenv ${NOVA_TEST_CACHE:-.cache}/NAME-venv of a test server
# is there; sets _NTS_VENV.  STAMP_FN PYTHON prints what decides its packages
# (a change reinstalls it); PIP_ARGS are pip install's.  READY_FN VENV says
# whether what PREPARE_FN VENV makes after the install (a template database
# every start copies) is there and current; if not, PREPARE_FN runs, its
# output in the install log.  Concurrent runs sharing the cache build it once
# (flock); a failed build leaves nothing that looks usable.
_nts_cached_venv() {
    local name=$1 stamp_fn=$2 ready_fn=$3 prepare_fn=$4
    shift 4
    local cache venv python stamp lockfd="" t0 log rc=0
    _NTS_VENV=
    cache=${NOVA_TEST_CACHE:-$_NTS_ROOT/.cache}
    mkdir -p -- "$cache" || return 1
    cache=$(cd -- "$cache" && pwd -P) || return 1
    venv="$cache/$name-venv"
    log="$cache/$name-venv-install.log"
    if ! python=$(_nts_neutron_python); then
        _nts_log "start_$name: no Python 3.11 or newer with the venv module" \
            "found (install python3-venv, or set NOVA_TEST_NEUTRON_PYTHON)"
        return 1
    fi
    stamp=$("$stamp_fn" "$python" | sha256sum | cut -d' ' -f1) || return 1
    if command -v flock >/dev/null 2>&1; then
        exec {lockfd}>>"$cache/$name-venv.lock" || return 1
        if ! flock -w 1800 "$lockfd"; then
            _nts_log "start_$name: timed out waiting for the lock on $cache"
            exec {lockfd}>&-
            return 1
        fi
    fi
    if ! [[ -f "$venv/.nova-test-stamp" &&
            "$(cat -- "$venv/.nova-test-stamp")" == "$stamp" ]] ||
            ! "$venv/bin/python" -c '' >/dev/null 2>&1; then
        t0=$(_nts_now)
        _nts_log "start_$name: installing $* into $venv (about a minute;" \
            "log $log)"
        : >"$log"
        rm -rf -- "$venv"
        if ! "$python" -m venv "$venv" >>"$log" 2>&1; then
            _nts_log "start_$name: could not create $venv"
            rc=1
        elif ! env -u PYTHONPATH -u PYTHONHOME PIP_DISABLE_PIP_VERSION_CHECK=1 \
                "$venv/bin/python" -m pip install -q "$@" >>"$log" 2>&1; then
            _nts_log "start_$name: pip install $* failed"
            rc=1
        else
            "$venv/bin/python" -m pip freeze >"$venv/pip-freeze.txt" 2>/dev/null
            printf '%s\n' "$stamp" >"$venv/.nova-test-stamp"
            _nts_log "start_$name: $venv installed in $(_nts_elapsed "$t0")s"
        fi
    fi
    if [[ $rc == 0 ]] && ! "$ready_fn" "$venv"; then
        t0=$(_nts_now)
        if "$prepare_fn" "$venv" >>"$log" 2>&1 && "$ready_fn" "$venv"; then
            _nts_log "start_$name: $venv prepared in $(_nts_elapsed "$t0")s"
        else
            _nts_log "start_$name: preparing $venv failed"
            rc=1
        fi
    fi
    if [[ $rc != 0 ]]; then
        _nts_log_tail "$name install" "$log"
        rm -f -- "$venv/.nova-test-stamp"
    fi
    [[ -n "$lockfd" ]] && exec {lockfd}>&-
    [[ $rc == 0 ]] || return 1
    _NTS_VENV=$venv
}

_nts_neutron_stamp() {
    # _nts_neutron_stamp PYTHON: what decides the virtualenv's contents
    printf '%s\n' "${_NTS_NEUTRON_PACKAGES[@]}"
    "$1" -c 'import sys; print(sys.executable); print(sys.version)'
    printf '%s\n' "$_NTS_NEUTRON_DB_PY"
}

_nts_neutron_ready() {
    # _nts_neutron_ready VENV: the server and its template database there?
    [[ -x "$1/bin/gunicorn" && -s "$1/neutron-template.sqlite" ]] &&
        [[ -s "$1/etc/neutron/api-paste.ini" ]]
}

_nts_neutron_prepare() {
    # _nts_neutron_prepare VENV: Neutron's empty database, copied at each start
    env -u PYTHONPATH -u PYTHONHOME "$1/bin/python" -W ignore \
        -c "$_NTS_NEUTRON_DB_PY" "$1/neutron-template.sqlite"
}

# Make sure Neutron's virtualenv is there; sets _NTS_NEUTRON_VENV.
_nts_neutron_ensure_venv() {
    _NTS_NEUTRON_VENV=
    _nts_cached_venv neutron _nts_neutron_stamp _nts_neutron_ready \
        _nts_neutron_prepare "${_NTS_NEUTRON_PACKAGES[@]}" || return 1
    _NTS_NEUTRON_VENV=$_NTS_VENV
}

_nts_neutron_version() {
    # _nts_neutron_version VENV: prints the installed neutron version
    local d
    for d in "$1"/lib/python3*/site-packages/neutron-[0-9]*.dist-info; do
        [[ -d "$d" ]] || continue
        d=${d##*/neutron-}
        printf '%s' "${d%.dist-info}"
        return 0
    done
    printf '?'
}

_nts_neutron_write_config() {
    # _nts_neutron_write_config DIR VENV
    local dir=$1 venv=$2
    mkdir -p -- "$dir/neutron-state/lock" || return 1
    cat >"$dir/neutron.conf" <<EOF || return 1
# Written by tools/test-services.sh (start_neutron) for the tests.
[DEFAULT]
auth_strategy = noauth
core_plugin = ml2
service_plugins =
api_paste_config = $venv/etc/neutron/api-paste.ini
state_path = $dir/neutron-state
transport_url = fake:/
notify_nova_on_port_status_changes = false
notify_nova_on_port_data_changes = false
dhcp_agent_notification = false
# A registered agent stays alive this many seconds after its heartbeat
# (larger values make the server refuse to start).
agent_down_time = 2147483
api_workers = 1
debug = false

[database]
connection = sqlite:///$dir/neutron.sqlite

[oslo_concurrency]
lock_path = $dir/neutron-state/lock

[oslo_messaging_notifications]
driver = noop

[quotas]
quota_network = -1
quota_subnet = -1
quota_port = -1
quota_security_group = -1
quota_security_group_rule = -1
EOF
    cat >"$dir/ml2_conf.ini" <<'EOF' || return 1
# Written by tools/test-services.sh (start_neutron) for the tests.
[ml2]
type_drivers = flat,vlan,local
tenant_network_types = local
mechanism_drivers = openvswitch
extension_drivers = port_security

[ml2_type_flat]
flat_networks = physnet1

[ml2_type_vlan]
# Provider VLANs only: no range, so no allocation rows to write at start.
network_vlan_ranges = physnet1

[securitygroup]
enable_security_group = true
firewall_driver = openvswitch
EOF
}

_nts_py_str() {
    # _nts_py_str TEXT: TEXT as a Python string literal
    local s=${1//\\/\\\\}
    s=${s//\"/\\\"}
    printf '"%s"' "$s"
}

_nts_neutron_write_gunicorn_config() {
    # _nts_neutron_write_gunicorn_config DIR PORT
    local dir=$1 port=$2
    cat >"$dir/neutron-gunicorn.conf.py" <<EOF
# Written by tools/test-services.sh (start_neutron) for the tests.
wsgi_app = "neutron.wsgi.api:application"
bind = "127.0.0.1:$port"
# One process, one thread: requests are served one at a time.
workers = 1
threads = 1
worker_class = "sync"
timeout = 120
graceful_timeout = 10
pidfile = $(_nts_py_str "$dir/neutron.pid")
accesslog = "-"
errorlog = "-"
proc_name = "neutron-api"
# gunicorn 27 opens a control socket in ~/.gunicorn by default.
control_socket_disable = True
EOF
}

_nts_http_wait() {
    # _nts_http_wait URL PID TIMEOUT [STATUS...]: 0 once URL answers one of
    # the STATUSes (default 200), 1 on timeout, 2 when PID has died.
    # Ignores http_proxy & co.
    python3 - "$@" <<'PY'
import sys
import time
import urllib.error
import urllib.request

url, pid, timeout = sys.argv[1], sys.argv[2], float(sys.argv[3])
wanted = {int(status) for status in sys.argv[4:]} or {200}
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def alive():
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


deadline = time.monotonic() + timeout
while True:
    try:
        with opener.open(url, timeout=10) as response:
            if response.status in wanted:
                sys.exit(0)
    except urllib.error.HTTPError as exc:
        if exc.code in wanted:
            sys.exit(0)
    except OSError:
        pass
    if not alive():
        sys.exit(2)
    if time.monotonic() > deadline:
        sys.exit(1)
    time.sleep(0.1)
PY
}

_nts_neutron_agent_alive() {
    # _nts_neutron_agent_alive URL HOST: does the server see an alive Open
    # vSwitch agent on HOST?
    python3 - "$@" <<'PY'
import json
import sys
import urllib.parse
import urllib.request

url, host = sys.argv[1], sys.argv[2]
query = urllib.parse.urlencode({"host": host, "agent_type": "Open vSwitch agent"})
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
with opener.open(f"{url}/v2.0/agents?{query}", timeout=30) as response:
    agents = json.load(response)["agents"]
if not any(agent["alive"] and agent["admin_state_up"] for agent in agents):
    sys.exit(f"no alive Open vSwitch agent on {host}: {agents}")
PY
}

_nts_neutron_register_agent() {
    # _nts_neutron_register_agent DIR VENV HOST: run in the background by
    # start_neutron; output in DIR/neutron-agent.json and neutron-setup.log
    local dir=$1 venv=$2 host=$3
    (cd -- "$dir" && exec env -u PYTHONPATH -u PYTHONHOME \
        "$venv/bin/python" -W ignore \
        "$_NTS_ROOT/tools/neutron_register_agent.py" \
        --config-file "$dir/neutron.conf" --config-file "$dir/ml2_conf.ini" \
        --host "$host") >"$dir/neutron-agent.json" 2>>"$dir/neutron-setup.log"
}

start_neutron() {
    local dir venv logfile setuplog url port attempt pid rc t0 version
    local host regpid regrc=0 logsize
    local timeout=${NOVA_TEST_START_TIMEOUT:-60}
    t0=$(_nts_now)
    _nts_prepare_dir "${1:-}" || return 1
    dir=$_NTS_DIR
    logfile="$dir/neutron.log"
    setuplog="$dir/neutron-setup.log"
    host=${NOVA_TEST_NEUTRON_HOST:-nova-test-host}

    if pid=$(_nts_registered_pid "$dir/neutron.pid"); then
        _nts_log "neutron already running in $dir (pid $pid)"
        return 0
    fi

    if [[ ! -f "$_NTS_ROOT/tools/neutron_register_agent.py" ]]; then
        _nts_log "start_neutron: $_NTS_ROOT/tools/neutron_register_agent.py" \
            "is missing"
        return 1
    fi
    _nts_neutron_ensure_venv || return 1
    venv=$_NTS_NEUTRON_VENV
    version=$(_nts_neutron_version "$venv")

    _nts_neutron_write_config "$dir" "$venv" || return 1
    : >"$logfile" && : >"$setuplog" || return 1
    cp -- "$venv/neutron-template.sqlite" "$dir/neutron.sqlite" || return 1

    # Register the agent while the server boots (both take seconds, mostly
    # importing Neutron; the registration is one short write).
    _nts_neutron_register_agent "$dir" "$venv" "$host" &
    regpid=$!

    for attempt in 1 2 3; do
        port=$(_nts_free_port) || return 1
        url="http://127.0.0.1:$port"
        _nts_neutron_write_gunicorn_config "$dir" "$port" || return 1
        rm -f -- "$dir/neutron.pid"
        logsize=$(stat -c %s -- "$logfile") || return 1
        # Neutron's WSGI module parses sys.argv as its own command line, so
        # gunicorn gets its settings from GUNICORN_CMD_ARGS, not arguments.
        (cd -- "$dir" && exec env -u PYTHONPATH -u PYTHONHOME \
            OS_NEUTRON_CONFIG_DIR="$dir" \
            OS_NEUTRON_CONFIG_FILES='neutron.conf;ml2_conf.ini' \
            GUNICORN_CMD_ARGS="--config=$(printf '%q' \
                "$dir/neutron-gunicorn.conf.py")" \
            "$venv/bin/gunicorn") </dev/null >>"$logfile" 2>&1 &
        pid=$!
        _nts_register neutron "$dir/neutron.pid" "$pid"

        rc=0
        _nts_http_wait "$url/v2.0/networks" "$pid" "$timeout" || rc=$?
        [[ $rc == 0 ]] && break

        if [[ $rc == 1 ]]; then
            _nts_log "start_neutron: $url/v2.0/networks did not answer 200" \
                "in ${timeout}s"
            _nts_log_tail neutron "$logfile"
            wait "$regpid" 2>/dev/null || true
            return 1
        fi
        wait "$pid" 2>/dev/null || true
        if [[ $attempt -lt 3 ]] && tail -c +"$((logsize + 1))" -- "$logfile" |
                grep -q 'Connection in use'; then
            _nts_log "start_neutron: port $port was taken, retrying"
            continue
        fi
        _nts_log "start_neutron: the Neutron server exited during start-up"
        _nts_log_tail neutron "$logfile"
        wait "$regpid" 2>/dev/null || true
        return 1
    done

    wait "$regpid" || regrc=$?
    if [[ $regrc != 0 ]]; then
        # E.g. "database is locked" against the booting server: once more.
        _nts_log "start_neutron: agent registration failed (rc $regrc)," \
            "retrying"
        _nts_neutron_register_agent "$dir" "$venv" "$host" || regrc=$?
    fi
    if [[ $regrc != 0 ]] || ! _nts_neutron_agent_alive "$url" "$host" \
            2>>"$setuplog"; then
        _nts_log "start_neutron: could not register an Open vSwitch agent" \
            "for $host"
        _nts_log_tail "neutron setup" "$setuplog"
        return 1
    fi

    export NOVA_TEST_NEUTRON_URL=$url
    export NOVA_TEST_NEUTRON_HOST=$host
    _nts_log "neutron $version on 127.0.0.1:$port (pid $pid, agent on" \
        "$host, ready in $(_nts_elapsed "$t0")s, log $logfile)"
    return 0
}

# Keystone: start_keystone DIR (exports NOVA_TEST_KEYSTONE_URL).
# shellcheck source=tools/services/keystone.sh
source "$_NTS_ROOT/tools/services/keystone.sh"

# --------------------------------------------------------------------------
# RabbitMQ
# --------------------------------------------------------------------------
#
# start_rabbitmq DIR runs a private RabbitMQ node (the Debian package's
# rabbitmq-server) listening for AMQP on 127.0.0.1 only, with everything in
# DIR/rabbitmq: its own epmd (ERL_EPMD_PORT, on 127.0.0.1) so that it never
# meets a system epmd or node, a random node name nova-test-<hex>@localhost,
# a private Erlang cookie (DIR/rabbitmq/home), its Mnesia directory and
# logs, and free ports for AMQP, Erlang distribution and epmd.  The user
# nova (password nova, administrator) has every permission on vhost "/"
# (RabbitMQ's default_user settings, applied when the node first boots).
# It exports
#
#     NOVA_TEST_RABBIT_URL=rabbit://nova:nova@127.0.0.1:PORT/
#     NOVA_TEST_RABBIT_RESTART=DIR/rabbitmq/rabbitmq-restart.sh
#
# The second is a stand-alone script (tests run it, e.g. to check that
# services reconnect): it stops the node by its PID and starts it again on
# the same ports, returning once the node serves again.  restart_rabbitmq
# does the same from the shell.  DIR/rabbitmq/rabbitmq.sh holds the logic
# (start | stop | restart | stop-all | ctl ARGS: rabbitmqctl ARGS on the
# node, e.g. ctl add_vhost nova); the node's log is
# DIR/rabbitmq/log/<node>.log, the start-up output rabbitmq-server.out.

_nts_rabbitmq_bin() {
    # _nts_rabbitmq_bin NAME: the real RabbitMQ script NAME.  Debian's
    # /usr/sbin wrappers switch to the rabbitmq user with su, cd to
    # /var/lib/rabbitmq and send the output to /var/log/rabbitmq: use the
    # scripts behind them.
    local c
    for c in "/usr/lib/rabbitmq/bin/$1" "/usr/local/lib/rabbitmq/bin/$1"; do
        if [[ -x "$c" ]]; then
            printf '%s' "$c"
            return 0
        fi
    done
    command -v "$1" 2>/dev/null
}

_nts_epmd_bin() {
    local c
    c=$(command -v epmd 2>/dev/null) && { printf '%s' "$c"; return 0; }
    for c in /usr/lib/erlang/bin/epmd /usr/lib/erlang/erts-*/bin/epmd; do
        if [[ -x "$c" ]]; then
            printf '%s' "$c"
            return 0
        fi
    done
    return 1
}

# The control script written into DIR/rabbitmq by start_rabbitmq; the
# settings are prepended as shell assignments.
# shellcheck disable=SC2016  # expanded by the script, not here
_NTS_RABBITMQ_SCRIPT='
ENV=(
    HOME="$RDIR/home"
    ERL_EPMD_PORT="$EPMD_PORT"
    ERL_EPMD_ADDRESS=127.0.0.1
    RABBITMQ_NODENAME="$NODE"
    RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
    RABBITMQ_NODE_PORT="$AMQP_PORT"
    RABBITMQ_DIST_PORT="$DIST_PORT"
    RABBITMQ_CONFIG_FILE="$RDIR/rabbitmq.conf"
    RABBITMQ_ADVANCED_CONFIG_FILE="$RDIR/advanced.config"
    RABBITMQ_CONF_ENV_FILE="$RDIR/rabbitmq-env.conf"
    RABBITMQ_ENABLED_PLUGINS_FILE="$RDIR/enabled_plugins"
    RABBITMQ_MNESIA_BASE="$RDIR/mnesia"
    RABBITMQ_LOG_BASE="$RDIR/log"
    RABBITMQ_PID_FILE="$RDIR/rabbitmq.pid"
    # Erlang distribution on the loopback interface only.
    "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=-kernel inet_dist_use_interface {127,0,0,1}"
)
[[ -n "$LOCALE" ]] && ENV+=(LC_ALL="$LOCALE" LANG="$LOCALE")

say() { printf "rabbitmq.sh: %s\n" "$*" >&2; }

# as_user CMD...: exec CMD (with ENV) as RUN_AS, or as ourselves.  setpriv
# execs (runuser would fork), so $! of "as_user ... &" is the program.
as_user() {
    if [[ -n "$RUN_AS" ]]; then
        exec setpriv --reuid="$RUN_AS" --regid="$RUN_AS" --init-groups -- \
            env "${ENV[@]}" "$@"
    fi
    exec env "${ENV[@]}" "$@"
}

ctl() {
    (cd -- "$RDIR" && as_user "$CTL" -q -n "$NODE" "$@")
}

readpid() {
    head -n 1 -- "$1" 2>/dev/null | tr -dc 0-9
}

# alive PID [COMM...]: PID runs (not a zombie), as one of COMM if given.
alive() {
    local pid=$1 comm state name
    shift
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    state=$(awk "{ print \$3 }" "/proc/$pid/stat" 2>/dev/null) || return 1
    [[ -n "$state" && "$state" != Z ]] || return 1
    [[ $# == 0 ]] && return 0
    comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
    for name in "$@"; do
        [[ "$comm" == "$name" ]] && return 0
    done
    return 1
}

# stop_pid PIDFILE COMM: SIGTERM, SIGKILL after GRACE seconds.
stop_pid() {
    local pidfile=$1 comm=$2 pid i
    pid=$(readpid "$pidfile")
    if alive "$pid" "$comm"; then
        kill -TERM "$pid" 2>/dev/null
        for ((i = 0; i < GRACE * 10; i++)); do
            alive "$pid" "$comm" || break
            sleep 0.1
        done
        if alive "$pid" "$comm"; then
            say "$comm (pid $pid) did not stop in ${GRACE}s, killing it"
            kill -KILL "$pid" 2>/dev/null
            for ((i = 0; i < 50; i++)); do
                alive "$pid" "$comm" || break
                sleep 0.1
            done
        fi
    fi
    rm -f -- "$pidfile"
}

port_taken() {
    # port_taken FILE OFFSET: does FILE (from byte OFFSET on) say so?
    tail -c +"$(($2 + 1))" -- "$1" 2>/dev/null |
        grep -qiE "eaddrinuse|address already in use|could not listen"
}

start_epmd() {
    local pid i size
    pid=$(readpid "$RDIR/epmd.pid")
    alive "$pid" epmd && return 0
    touch -- "$RDIR/epmd.log"
    size=$(stat -c %s -- "$RDIR/epmd.log")
    (cd -- "$RDIR" && as_user "$EPMD" -port "$EPMD_PORT" -address 127.0.0.1) \
        </dev/null >>"$RDIR/epmd.log" 2>&1 &
    pid=$!
    printf "%s\n" "$pid" >"$RDIR/epmd.pid"
    # Until it execs epmd, the child is a subshell, setpriv or env: while
    # starting, "alive" means any program.
    for ((i = 0; i < 100; i++)); do
        if alive "$pid" epmd &&
                ERL_EPMD_ADDRESS=127.0.0.1 "$EPMD" -port "$EPMD_PORT" -names \
                    >/dev/null 2>&1; then
            # Still there a moment later: it is its listener that answered.
            sleep 0.2
            alive "$pid" epmd && return 0
        fi
        if ! alive "$pid"; then
            rm -f -- "$RDIR/epmd.pid"
            wait "$pid" 2>/dev/null
            if port_taken "$RDIR/epmd.log" "$size"; then
                say "epmd port $EPMD_PORT is taken"
                return 3
            fi
            say "epmd exited during start-up (log $RDIR/epmd.log)"
            return 1
        fi
        sleep 0.1
    done
    say "epmd does not listen on 127.0.0.1:$EPMD_PORT"
    kill -KILL "$pid" 2>/dev/null
    rm -f -- "$RDIR/epmd.pid"
    return 1
}

start_node() {
    local pid wrapper i size logsize log="$RDIR/log/$NODE.log"
    pid=$(readpid "$RDIR/rabbitmq.pid")
    if ! alive "$pid" beam.smp; then
        rm -f -- "$RDIR/rabbitmq.pid"
        touch -- "$RDIR/rabbitmq-server.out"
        size=$(stat -c %s -- "$RDIR/rabbitmq-server.out")
        logsize=$(stat -c %s -- "$log" 2>/dev/null || echo 0)
        (cd -- "$RDIR" && as_user "$SERVER") \
            </dev/null >>"$RDIR/rabbitmq-server.out" 2>&1 &
        wrapper=$!
        # The node writes its (beam.smp) PID early in its boot.
        for ((i = 0; ; i++)); do
            pid=$(readpid "$RDIR/rabbitmq.pid")
            alive "$pid" beam.smp && break
            if ! alive "$wrapper" || [[ $i -ge $((TIMEOUT * 10)) ]]; then
                # The wrapper stops the node on TERM.
                alive "$wrapper" && kill -TERM "$wrapper" 2>/dev/null
                wait "$wrapper" 2>/dev/null
                if port_taken "$RDIR/rabbitmq-server.out" "$size" ||
                        port_taken "$log" "$logsize"; then
                    say "a port of the node is taken"
                    return 3
                fi
                say "rabbitmq-server did not start (see $RDIR/rabbitmq-server.out)"
                return 1
            fi
            sleep 0.1
        done
    fi
    # Returns once the rabbit application runs; fails if the node dies.
    if ! ctl -t "$TIMEOUT" wait --pid "$pid" >>"$RDIR/rabbitmqctl.log" 2>&1; then
        if port_taken "$log" "${logsize:-0}"; then
            say "a port of the node is taken"
            stop_pid "$RDIR/rabbitmq.pid" beam.smp
            return 3
        fi
        say "node $NODE did not start in ${TIMEOUT}s (see $log)"
        return 1
    fi
    return 0
}

case "${1:-}" in
    start) start_epmd && start_node ;;
    stop) stop_pid "$RDIR/rabbitmq.pid" beam.smp ;;
    restart) stop_pid "$RDIR/rabbitmq.pid" beam.smp && start_epmd && start_node ;;
    stop-all)
        stop_pid "$RDIR/rabbitmq.pid" beam.smp
        stop_pid "$RDIR/epmd.pid" epmd
        ;;
    ctl) shift && ctl "$@" ;;
    *)
        say "usage: $0 start|stop|restart|stop-all|ctl RABBITMQCTL-ARGS..."
        exit 2
        ;;
esac
'

_nts_rabbitmq_write_files() {
    # _nts_rabbitmq_write_files RDIR NODE RUN_AS SERVER CTL EPMD EPMD_PORT
    #                           AMQP_PORT DIST_PORT TIMEOUT LOCALE
    local rdir=$1 node=$2 run_as=$3 server=$4 ctl=$5 epmd=$6
    local epmd_port=$7 amqp_port=$8 dist_port=$9 timeout=${10} locale=${11}
    cat >"$rdir/rabbitmq.conf" <<EOF || return 1
# Written by tools/test-services.sh (start_rabbitmq) for the tests.
listeners.tcp.1 = 127.0.0.1:$amqp_port
# Created with every permission on vhost / when the node first boots.
default_vhost = /
default_user = nova
default_pass = nova
default_user_tags.administrator = true
default_permissions.configure = .*
default_permissions.read = .*
default_permissions.write = .*
loopback_users = none
log.console = false
log.file.level = info
EOF
    {
        printf '#!/usr/bin/env bash\n'
        printf '# Written by tools/test-services.sh (start_rabbitmq): controls the\n'
        printf '# private RabbitMQ node of the tests and its epmd, by PID.\n'
        printf '#   rabbitmq.sh start | stop | restart | stop-all\n'
        printf '#   rabbitmq.sh ctl ARGS...   rabbitmqctl ARGS on the node\n'
        printf '# Exit status: 0 done, 1 failed, 3 a port was taken (start).\n'
        printf 'set -u\n'
        printf 'RDIR=%q\n' "$rdir"
        printf 'NODE=%q\n' "$node"
        printf 'RUN_AS=%q\n' "$run_as"
        printf 'SERVER=%q\n' "$server"
        printf 'CTL=%q\n' "$ctl"
        printf 'EPMD=%q\n' "$epmd"
        printf 'EPMD_PORT=%q\n' "$epmd_port"
        printf 'AMQP_PORT=%q\n' "$amqp_port"
        printf 'DIST_PORT=%q\n' "$dist_port"
        printf 'TIMEOUT=%q\n' "$timeout"
        printf 'GRACE=%q\n' "${NOVA_TEST_STOP_TIMEOUT:-20}"
        printf 'LOCALE=%q\n' "$locale"
        printf '%s' "$_NTS_RABBITMQ_SCRIPT"
    } >"$rdir/rabbitmq.sh" || return 1
    cat >"$rdir/rabbitmq-restart.sh" <<EOF || return 1
#!/bin/sh
# Written by tools/test-services.sh (start_rabbitmq): stop the tests'
# RabbitMQ node by its PID and start it again on the same port; returns
# once it serves again.
exec $(printf '%q' "$rdir/rabbitmq.sh") restart
EOF
    chmod 0755 -- "$rdir/rabbitmq.sh" "$rdir/rabbitmq-restart.sh"
}

start_rabbitmq() {
    local dir rdir server ctl epmd run_as="" node port epmd_port dist_port
    local attempt rc pid t0 version locale="" log
    local timeout=${NOVA_TEST_START_TIMEOUT:-60}
    t0=$(_nts_now)
    _nts_prepare_dir "${1:-}" || return 1
    dir=$_NTS_DIR
    rdir="$dir/rabbitmq"

    if pid=$(_nts_registered_pid "$rdir/rabbitmq.pid"); then
        _nts_log "rabbitmq already running in $dir (pid $pid)"
        return 0
    fi

    server=$(_nts_rabbitmq_bin rabbitmq-server || true)
    ctl=$(_nts_rabbitmq_bin rabbitmqctl || true)
    epmd=$(_nts_epmd_bin || true)
    if [[ -z "$server" || -z "$ctl" || -z "$epmd" ]]; then
        _nts_log "start_rabbitmq: rabbitmq-server, rabbitmqctl or epmd not" \
            "found (install the rabbitmq-server package)"
        return 1
    fi
    if _nts_is_root && id rabbitmq >/dev/null 2>&1; then
        run_as=rabbitmq
        if ! command -v setpriv >/dev/null 2>&1; then
            _nts_log "start_rabbitmq: setpriv (util-linux) is missing"
            return 1
        fi
    fi
    if locale -a 2>/dev/null | grep -qix 'c\.utf-\?8'; then
        locale=C.UTF-8
    fi

    mkdir -p -- "$rdir/home" "$rdir/mnesia" "$rdir/log" || return 1
    if [[ ! -s "$rdir/home/.erlang.cookie" ]]; then
        (umask 077 && od -An -N 24 -tx1 /dev/urandom | tr -dc 0-9a-f \
            >"$rdir/home/.erlang.cookie") || return 1
    fi
    chmod 0400 -- "$rdir/home/.erlang.cookie" || return 1
    printf '[].\n' >"$rdir/enabled_plugins" || return 1
    printf '# Empty: keeps /etc/rabbitmq/rabbitmq-env.conf out of it.\n' \
        >"$rdir/rabbitmq-env.conf" || return 1
    if [[ -n "$run_as" ]]; then
        chmod o+x -- "$dir" || return 1
        chown -R "$run_as:" -- "$rdir" || return 1
        if ! runuser -u "$run_as" -- test -w "$rdir/mnesia"; then
            _nts_log "start_rabbitmq: user $run_as cannot write $rdir" \
                "(is every parent directory of $dir world-searchable?)"
            return 1
        fi
    fi

    node="nova-test-$(od -An -N 4 -tx1 /dev/urandom | tr -dc 0-9a-f)@localhost"
    log="$rdir/log/$node.log"
    # Registered once, by PID file: stop_test_services stops whatever PID
    # the files hold then (restarts write new ones).
    _nts_register rabbitmq "$rdir/rabbitmq.pid" ""
    _nts_register epmd "$rdir/epmd.pid" ""

    for attempt in 1 2 3; do
        port=$(_nts_free_port) || return 1
        epmd_port=$(_nts_free_port) || return 1
        dist_port=$(_nts_free_port) || return 1
        _nts_rabbitmq_write_files "$rdir" "$node" "$run_as" "$server" "$ctl" \
            "$epmd" "$epmd_port" "$port" "$dist_port" "$timeout" "$locale" ||
            return 1
        rc=0
        "$rdir/rabbitmq.sh" start || rc=$?
        [[ $rc == 0 ]] && break
        "$rdir/rabbitmq.sh" stop-all
        if [[ $rc == 3 && $attempt -lt 3 ]]; then
            _nts_log "start_rabbitmq: a port was taken, retrying"
            continue
        fi
        _nts_log "start_rabbitmq: the node did not start"
        _nts_log_tail epmd "$rdir/epmd.log"
        _nts_log_tail "rabbitmq start-up" "$rdir/rabbitmq-server.out"
        _nts_log_tail rabbitmq "$log"
        return 1
    done

    pid=$(head -n 1 "$rdir/rabbitmq.pid" 2>/dev/null | tr -dc '0-9')
    version=$(basename -- "$(dirname -- "$(dirname -- \
        "$(readlink -f -- "$server")")")")
    export NOVA_TEST_RABBIT_URL="rabbit://nova:nova@127.0.0.1:$port/"
    export NOVA_TEST_RABBIT_RESTART="$rdir/rabbitmq-restart.sh"
    _nts_log "rabbitmq ${version#rabbitmq_server-} ($node) on 127.0.0.1:$port" \
        "(pid $pid, epmd on $epmd_port, ready in $(_nts_elapsed "$t0")s," \
        "log $log)"
    return 0
}

# restart_rabbitmq [DIR]: stop the node of start_rabbitmq DIR (default: the
# one NOVA_TEST_RABBIT_RESTART belongs to) and start it on the same port.
restart_rabbitmq() {
    local script t0 rc=0
    t0=$(_nts_now)
    if [[ -n "${1:-}" ]]; then
        script="$(cd -- "$1" && pwd -P)/rabbitmq/rabbitmq-restart.sh" || return 1
    else
        script=${NOVA_TEST_RABBIT_RESTART:-}
    fi
    if [[ -z "$script" || ! -x "$script" ]]; then
        _nts_log "restart_rabbitmq: no RabbitMQ started (start_rabbitmq DIR)"
        return 1
    fi
    "$script" || rc=$?
    if [[ $rc != 0 ]]; then
        _nts_log "restart_rabbitmq: failed (rc $rc)"
        return 1
    fi
    _nts_log "rabbitmq restarted in $(_nts_elapsed "$t0")s"
}

# --------------------------------------------------------------------------
# Stopping
# --------------------------------------------------------------------------

# Stop every server started by start_postgresql/start_mysql/start_neutron/
# start_rabbitmq in this shell (or adopted, adopt_test_services) and remove
# the directories they used (not the Neutron virtualenv cache; none with
# NOVA_TEST_KEEP_DATA=1).  Always returns 0; safe to call
# more than once (e.g. from an EXIT trap after an explicit call).
stop_test_services() {
    local entry kind pidfile pid sig i phase
    local -a pids=() kinds=() children=()
    local grace=${NOVA_TEST_STOP_TIMEOUT:-20} hook

    for hook in "${_NTS_STOP_HOOKS[@]}"; do
        "$hook" || true
    done
    # RabbitMQ's epmd goes last, once its node has stopped.
    for phase in servers epmd; do
        pids=()
        kinds=()
        for entry in "${_NTS_SERVERS[@]}"; do
            IFS='|' read -r kind pidfile pid <<<"$entry"
            if [[ $phase == epmd ]]; then
                [[ "$kind" == epmd ]] || continue
            else
                [[ "$kind" != epmd ]] || continue
            fi
            if [[ -s "$pidfile" ]]; then
                local filepid
                filepid=$(head -n 1 "$pidfile" 2>/dev/null | tr -dc '0-9')
                [[ -n "$filepid" ]] && pid=$filepid
            fi
            _nts_pid_is "$pid" "${_NTS_PROGRAMS[@]}" || continue
            # The postmaster treats SIGTERM as "smart" shutdown, which waits
            # for clients to go away; SIGINT is its "fast" shutdown.
            # Gunicorn: SIGTERM is graceful (finish the current request),
            # SIGINT quick.  The Erlang VM (RabbitMQ) stops cleanly on TERM.
            sig=TERM
            [[ "$kind" == postgresql ]] && sig=INT
            kill -s "$sig" "$pid" 2>/dev/null || true
            pids+=("$pid")
            kinds+=("$kind")
        done

        for i in "${!pids[@]}"; do
            pid=${pids[$i]}
            local waited=0
            while _nts_pid_is "$pid" "${_NTS_PROGRAMS[@]}" &&
                    [[ $waited -lt $((grace * 10)) ]]; do
                sleep 0.1
                waited=$((waited + 1))
            done
            if _nts_pid_is "$pid" "${_NTS_PROGRAMS[@]}"; then
                _nts_log "stop_test_services: ${kinds[$i]} (pid $pid) did" \
                    "not stop in ${grace}s, killing it"
                mapfile -t children < <(pgrep -P "$pid" 2>/dev/null || true)
                kill -s KILL "$pid" "${children[@]}" 2>/dev/null || true
                sleep 0.2
            fi
            # Reap it if it was our child (mariadbd and gunicorn are).
            wait "$pid" 2>/dev/null || true
        done
    done
    _NTS_SERVERS=()
    for hook in "${_NTS_AFTER_STOP_HOOKS[@]}"; do
        "$hook" || true
    done

    local dir owned
    if [[ "${NOVA_TEST_KEEP_DATA:-0}" == 1 ]]; then
        _NTS_DIRS=()
    fi
    for entry in "${_NTS_DIRS[@]}"; do
        dir=${entry%|*}
        owned=${entry##*|}
        [[ -d "$dir" ]] || continue
        if [[ "$owned" == 1 ]]; then
            rm -rf -- "$dir"
        else
            # DIR held other files before we came: remove only our parts.
            rm -rf -- "$dir/pg" "$dir/pg-socket" "$dir/pg.log" \
                "$dir/pg.log.ctl" "$dir/mysql" "$dir/mysql.sock" \
                "$dir/mysql.pid" "$dir/mysql.log" "$dir/neutron.conf" \
                "$dir/ml2_conf.ini" "$dir/neutron-gunicorn.conf.py" \
                "$dir"/neutron.sqlite* "$dir/neutron.pid" "$dir/neutron.log" \
                "$dir/neutron-setup.log" "$dir/neutron-agent.json" \
                "$dir/neutron-state" "$dir/rabbitmq" "$dir/keystone" "$dir/libvirt"
        fi
    done
    _NTS_DIRS=()
    unset NOVA_TEST_POSTGRESQL_URL NOVA_TEST_MYSQL_URL NOVA_TEST_NEUTRON_URL \
        NOVA_TEST_NEUTRON_HOST NOVA_TEST_RABBIT_URL NOVA_TEST_RABBIT_RESTART \
        NOVA_TEST_KEYSTONE_URL NOVA_TEST_KEYSTONE_PASSWORD NOVA_TEST_OVSDB \
        NOVA_TEST_OVS_RUNDIR
    return 0
}

# adopt_test_services DIR: register the servers that start_postgresql,
# start_mysql, start_neutron and start_rabbitmq DIR left running (from
# another shell), by their PID files in DIR, so that stop_test_services
# stops them.  DIR itself is left in place unless it is registered by a
# start_* of this shell.
adopt_test_services() {
    local dir
    dir=$(cd -- "${1:?adopt_test_services DIR}" 2>/dev/null && pwd -P) || return 0
    [[ -s "$dir/pg/postmaster.pid" ]] &&
        _nts_register postgresql "$dir/pg/postmaster.pid" ""
    [[ -s "$dir/mysql.pid" ]] && _nts_register mysql "$dir/mysql.pid" ""
    [[ -s "$dir/neutron.pid" ]] && _nts_register neutron "$dir/neutron.pid" ""
    [[ -s "$dir/rabbitmq/rabbitmq.pid" ]] &&
        _nts_register rabbitmq "$dir/rabbitmq/rabbitmq.pid" ""
    [[ -s "$dir/rabbitmq/epmd.pid" ]] &&
        _nts_register epmd "$dir/rabbitmq/epmd.pid" ""
    return 0
}

# Servers in files of their own (tools/services/NAME.sh).
# shellcheck source=tools/services/glance.sh
source "$_NTS_ROOT/tools/services/glance.sh"
# shellcheck source=tools/services/netns.sh
source "$_NTS_ROOT/tools/services/netns.sh"
# shellcheck source=tools/services/libvirt.sh
source "$_NTS_ROOT/tools/services/libvirt.sh"
# shellcheck source=tools/services/openvswitch.sh
source "$_NTS_ROOT/tools/services/openvswitch.sh"
