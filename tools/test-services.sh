# shellcheck shell=bash
#
# Private database servers for the integration tests.
#
# This file is a library: source it, do not execute it.
#
#     source tools/test-services.sh
#     dir=$(mktemp -d)
#     trap stop_test_services EXIT
#     start_postgresql "$dir"   # exports NOVA_TEST_POSTGRESQL_URL
#     start_mysql "$dir"        # exports NOVA_TEST_MYSQL_URL
#     ...
#     stop_test_services        # safe to call more than once
#
# Every server listens on 127.0.0.1 only, on a free TCP port, with its data,
# unix socket, pid file and log inside DIR.  The servers keep their default
# durability settings (fsync etc.), so timings taken against them are honest.
#
# When run as root, PostgreSQL runs as the "postgres" system user and MariaDB
# as the "mysql" system user, since PostgreSQL refuses to run as root.
#
# Environment knobs (all optional):
#     NOVA_TEST_PG_BINDIR   directory holding initdb/pg_ctl/postgres
#                           (default: newest /usr/lib/postgresql/*/bin)
#     NOVA_TEST_START_TIMEOUT  seconds to wait for a server (default 60)
#
# The functions work with or without `set -euo pipefail` in the caller and
# return non-zero on failure (after printing the tail of the server log).

# Registered servers, one entry per server: "KIND|PIDFILE|PID".
_NTS_SERVERS=()
# Directories used by start_* calls: "DIR|OWNED" (OWNED=1 when the directory
# was empty or missing at first use, so stop_test_services may remove it).
_NTS_DIRS=()

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

# Is PID alive and running one of the given program names?
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
        [[ "$comm" == "$name" ]] && return 0
    done
    return 1
}

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
        if _nts_pid_is "$pid" postgres mariadbd mysqld; then
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
# Stopping
# --------------------------------------------------------------------------

# Stop every server started by start_postgresql/start_mysql in this shell
# and remove the directories they used.  Always returns 0; safe to call
# more than once (e.g. from an EXIT trap after an explicit call).
stop_test_services() {
    local entry kind pidfile pid sig i
    local -a pids=() kinds=() children=()
    local grace=${NOVA_TEST_STOP_TIMEOUT:-20}

    for entry in "${_NTS_SERVERS[@]}"; do
        IFS='|' read -r kind pidfile pid <<<"$entry"
        if [[ -s "$pidfile" ]]; then
            local filepid
            filepid=$(head -n 1 "$pidfile" 2>/dev/null | tr -dc '0-9')
            [[ -n "$filepid" ]] && pid=$filepid
        fi
        _nts_pid_is "$pid" postgres mariadbd mysqld || continue
        # The postmaster treats SIGTERM as "smart" shutdown, which waits
        # for clients to go away; SIGINT is its "fast" shutdown.
        sig=TERM
        [[ "$kind" == postgresql ]] && sig=INT
        kill -s "$sig" "$pid" 2>/dev/null || true
        pids+=("$pid")
        kinds+=("$kind")
    done

    for i in "${!pids[@]}"; do
        pid=${pids[$i]}
        local waited=0
        while _nts_pid_is "$pid" postgres mariadbd mysqld &&
                [[ $waited -lt $((grace * 10)) ]]; do
            sleep 0.1
            waited=$((waited + 1))
        done
        if _nts_pid_is "$pid" postgres mariadbd mysqld; then
            _nts_log "stop_test_services: ${kinds[$i]} (pid $pid) did not" \
                "stop in ${grace}s, killing it"
            mapfile -t children < <(pgrep -P "$pid" 2>/dev/null || true)
            kill -s KILL "$pid" "${children[@]}" 2>/dev/null || true
            sleep 0.2
        fi
        # Reap it if it was our child (mariadbd is).
        wait "$pid" 2>/dev/null || true
    done
    _NTS_SERVERS=()

    local dir owned
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
                "$dir/mysql.pid" "$dir/mysql.log"
        fi
    done
    _NTS_DIRS=()
    unset NOVA_TEST_POSTGRESQL_URL NOVA_TEST_MYSQL_URL
    return 0
}
