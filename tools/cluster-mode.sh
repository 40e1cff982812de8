# shellcheck shell=bash
#
# ./run_nova.sh --cluster: the multi-process cloud on this machine, as daemons
# (sourced by run_nova.sh). PostgreSQL and RabbitMQ are the project's own
# private servers (tools/test-services.sh, data kept in STATE/services
# between starts); the Nova and Quantum processes are started here:
#
#     cluster_mode_start STATE N   PostgreSQL (databases nova and quantum),
#                                  RabbitMQ (vhost nova), one config per
#                                  process, nova-manage db sync, then
#                                  quantum-server, nova-api, nova-scheduler
#                                  and N nova-compute (hosts compute-1 ...);
#                                  returns once the API answers and every
#                                  service has reported; writes STATE/cluster.env
#     cluster_mode_stop STATE      those processes (SIGTERM to each one's
#                                  process group, SIGKILL to what is left
#                                  after NOVA_CLUSTER_STOP_TIMEOUT (30) s),
#                                  then PostgreSQL and RabbitMQ
#     cluster_mode_status STATE    each process (alive or dead, pid) and the
#                                  services' last heartbeats; 0 when all run
#
# Under STATE: etc/NAME.conf (rewritten at each start; etc/local.conf, if
# there, is read last by every process), NAME/ (its state_path and working
# directory), log/NAME.log, run/NAME.pid, services/ (PostgreSQL, RabbitMQ).
# A process is known by its PID file and its working directory, so a PID
# reused by another program is never signalled.
#
# Knobs: NOVA_API_PORT (8774), NOVA_QUANTUM_PORT (9696),
# NOVA_CLUSTER_API_WORKERS (2), NOVA_CLUSTER_START_TIMEOUT (60).

# shellcheck source=tools/test-services.sh
source "$ROOT/tools/test-services.sh"

# The start's background check of the services' reports (stopped with them).
_CLUSTER_WAITER=

_cluster_log() {
    printf 'cluster: %s\n' "$*" >&2
}

# _cluster_names STATE: the processes of the cluster, in start order.
_cluster_names() {
    local state=$1 n i
    n=$(cat -- "$state/run/computes" 2>/dev/null) || n=0
    printf '%s\n' quantum-server nova-api nova-scheduler
    for ((i = 1; i <= n; i++)); do
        printf 'nova-compute-%s\n' "$i"
    done
}

# _cluster_pid STATE NAME: print the PID of NAME if it runs (its PID file
# names a live process whose working directory is STATE/NAME).
_cluster_pid() {
    local state=$1 name=$2 pid
    pid=$(head -n 1 -- "$state/run/$name.pid" 2>/dev/null | tr -dc 0-9)
    [[ -n "$pid" ]] || return 1
    [[ "$(readlink -- "/proc/$pid/cwd" 2>/dev/null)" == "$state/$name" ]] || return 1
    [[ "$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null)" != Z ]] || return 1
    printf '%s' "$pid"
}

# _cluster_spawn STATE NAME PROGRAM: start PROGRAM with STATE/etc/NAME.conf
# in a session of its own (its process group: gunicorn's workers with it).
_cluster_spawn() {
    local state=$1 name=$2 program=$3
    local -a configs=(--config-file "$state/etc/$name.conf")
    [[ -f "$state/etc/local.conf" ]] && configs+=(--config-file "$state/etc/local.conf")
    mkdir -p -- "$state/$name"
    (cd -- "$state/$name" && exec setsid env PYTHONUNBUFFERED=1 \
        no_proxy=127.0.0.1,localhost NO_PROXY=127.0.0.1,localhost \
        "$ROOT/.venv/bin/$program" "${configs[@]}") \
        </dev/null >>"$state/log/$name.log" 2>&1 &
    printf '%s\n' "$!" >"$state/run/$name.pid"
}

# _cluster_write_configs STATE N PGPORT RABBITPORT
_cluster_write_configs() {
    local state=$1 n=$2 pg=$3 rabbit=$4 name host i
    local api_port=${NOVA_API_PORT:-8774} quantum_port=${NOVA_QUANTUM_PORT:-9696}
    cat >"$state/etc/quantum-server.conf" <<CONF
# Written by ./run_nova.sh --cluster at each start (put your own options in
# $state/etc/local.conf: every process reads it last).
[DEFAULT]
state_path = $state/quantum-server
log_file = $state/log/quantum-server.log
bind_host = 127.0.0.1
bind_port = $quantum_port

[database]
connection = postgresql+psycopg://nova@127.0.0.1:$pg/quantum
CONF
    for name in nova-api nova-scheduler $(seq -f 'nova-compute-%g' 1 "$n"); do
        host=controller
        [[ $name == nova-compute-* ]] && host=compute-${name#nova-compute-}
        cat >"$state/etc/$name.conf" <<CONF
# Written by ./run_nova.sh --cluster at each start (put your own options in
# $state/etc/local.conf: every process reads it last).
[DEFAULT]
# --- this process's own: a distinct host per compute, its own state and log
host = $host
state_path = $state/$name
log_file = $state/log/$name.log
# --- the same in every process of the cluster
transport_url = rabbit://nova:nova@127.0.0.1:$rabbit/nova
# Heartbeats every 5 s (Nova's default is 10): the start waits for each
# service's second one, and "status" shows fresher figures.
report_interval = 5
# libvirt's test driver reports 3072 MB of RAM per host and its guests use
# none: with Nova's default ratio (1.5) a host takes 9 m1.tiny (512 MB), with
# 16 it takes 96. The scheduler applies the ratios.
ram_allocation_ratio = 16.0
osapi_compute_listen = 127.0.0.1
osapi_compute_listen_port = $api_port
# nova-api's gunicorn worker processes.
osapi_compute_workers = ${NOVA_CLUSTER_API_WORKERS:-2}

[database]
connection = postgresql+psycopg://nova@127.0.0.1:$pg/nova

[network]
backend = quantum

[quantum]
url = http://127.0.0.1:$quantum_port

[libvirt]
connection_uri = test:///default

[quota]
# A test cloud: no per-project limit on servers (the default is 10).
instances = -1
cores = -1
ram = -1
CONF
    done
    printf '%s\n' "$n" >"$state/run/computes"
}

# _cluster_psql PGPORT SQL: run SQL on the private server's database postgres.
_cluster_psql() {
    local bindir
    bindir=$(_nts_pg_bindir) || return 1
    "$bindir/psql" -X -q -t -A -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$1" -U nova \
        -d postgres -c "$2"
}

# _cluster_setup_servers STATE: PostgreSQL and RabbitMQ with Nova's databases,
# vhost and user; sets CLUSTER_PG_PORT and CLUSTER_RABBIT_PORT.
_cluster_setup_servers() {
    local state=$1 db rdir
    start_postgresql "$state/services" || return 1
    CLUSTER_PG_PORT=${NOVA_TEST_POSTGRESQL_URL##*:}
    CLUSTER_PG_PORT=${CLUSTER_PG_PORT%%/*}
    for db in nova quantum; do
        if [[ -z "$(_cluster_psql "$CLUSTER_PG_PORT" \
                "SELECT 1 FROM pg_database WHERE datname = '$db'")" ]]; then
            _cluster_psql "$CLUSTER_PG_PORT" "CREATE DATABASE $db OWNER nova" || return 1
        fi
    done
    start_rabbitmq "$state/services" || return 1
    CLUSTER_RABBIT_PORT=${NOVA_TEST_RABBIT_URL##*:}
    CLUSTER_RABBIT_PORT=${CLUSTER_RABBIT_PORT%%/*}
    # The user nova (password nova) exists (start_rabbitmq); its vhost:
    rdir=$state/services/rabbitmq
    "$rdir/rabbitmq.sh" ctl add_vhost nova >/dev/null 2>&1 || true
    "$rdir/rabbitmq.sh" ctl set_permissions -p nova nova '.*' '.*' '.*' ||
        return 1
}

# _cluster_running STATE: 0 all processes run, 1 some, 2 none.
_cluster_running() {
    local state=$1 name up=0 down=0
    while read -r name; do
        if _cluster_pid "$state" "$name" >/dev/null; then
            up=$((up + 1))
        else
            down=$((down + 1))
        fi
    done < <(_cluster_names "$state")
    if [[ $up -gt 0 && $down == 0 ]]; then
        return 0
    elif [[ $up -gt 0 ]]; then
        return 1
    fi
    return 2
}

_cluster_fail() {
    # _cluster_fail STATE NAME WHAT: say why, show NAME's log tail, stop all.
    _cluster_log "$3; the end of $1/log/$2.log:"
    tail -n 20 -- "$1/log/$2.log" >&2 2>/dev/null
    cluster_mode_stop "$1"
    return 1
}

cluster_mode_start() {
    local state=$1 n=$2 name rc waiter i api quantum timeout
    timeout=${NOVA_CLUSTER_START_TIMEOUT:-60}
    mkdir -p -- "$state" && state=$(cd -- "$state" && pwd -P) || return 1
    _cluster_running "$state"
    rc=$?
    if [[ $rc == 0 ]]; then
        _cluster_log "already running in $state ($(cat -- "$state/run/computes") computes;" \
            "'./run_nova.sh --cluster stop' first to change it)"
        cluster_mode_help "$state"
        return 0
    elif [[ $rc == 1 ]]; then
        _cluster_log "partly running in $state: stopping it to start it again"
    fi
    cluster_mode_stop "$state" 2>/dev/null  # what a killed or partial run left
    mkdir -p -- "$state/etc" "$state/log" "$state/run"
    rm -f -- "$state/cluster.env"
    # As root PostgreSQL runs as the postgres user, who must reach its data.
    _nts_is_root && chmod o+x -- "$state"
    _cluster_setup_servers "$state" || { cluster_mode_stop "$state"; return 1; }
    _cluster_write_configs "$state" "$n" "$CLUSTER_PG_PORT" "$CLUSTER_RABBIT_PORT"

    if ! "$ROOT/.venv/bin/nova-manage" --config-file "$state/etc/nova-api.conf" db sync \
            >>"$state/log/nova-manage.log" 2>&1; then
        _cluster_fail "$state" nova-manage "nova-manage db sync failed"
        return 1
    fi
    # Ready: both APIs answer, and the scheduler and every compute have
    # reported twice since now (the second time from their report loops:
    # their RPC servers consume by then).
    rm -f -- "$state/run/counted"
    "$ROOT/.venv/bin/python" "$ROOT/tools/cluster_services.py" \
        --config-file "$state/etc/nova-api.conf" --timeout "$timeout" \
        --started-file "$state/run/counted" \
        --wait controller $(seq -f 'compute-%g' 1 "$n") \
        >>"$state/log/cluster-start.log" 2>&1 &
    waiter=$!
    _CLUSTER_WAITER=$waiter
    while [[ ! -s "$state/run/counted" ]]; do
        if ! kill -0 "$waiter" 2>/dev/null; then
            _cluster_fail "$state" cluster-start "the services' reports could not be read"
            return 1
        fi
        sleep 0.1
    done
    _cluster_spawn "$state" quantum-server quantum-server
    _cluster_spawn "$state" nova-api nova-api
    _cluster_spawn "$state" nova-scheduler nova-scheduler
    for ((i = 1; i <= n; i++)); do
        _cluster_spawn "$state" "nova-compute-$i" nova-compute
    done
    api="http://127.0.0.1:${NOVA_API_PORT:-8774}/v2.1/"
    quantum="http://127.0.0.1:${NOVA_QUANTUM_PORT:-9696}/"
    for ((i = 0; ; i++)); do
        while read -r name; do
            if ! _cluster_pid "$state" "$name" >/dev/null; then
                kill "$waiter" 2>/dev/null
                wait "$waiter" 2>/dev/null
                _cluster_fail "$state" "$name" "$name exited during start-up"
                return 1
            fi
        done < <(_cluster_names "$state")
        if ! kill -0 "$waiter" 2>/dev/null; then
            if ! wait "$waiter"; then
                _cluster_fail "$state" cluster-start \
                    "the services did not all report in ${timeout}s"
                return 1
            fi
            if curl -sf --noproxy '*' -o /dev/null "$api" &&
                    curl -sf --noproxy '*' -o /dev/null "$quantum"; then
                break
            fi
            if [[ $i -ge $((timeout * 10)) ]]; then
                _cluster_fail "$state" nova-api "the APIs did not answer in ${timeout}s"
                return 1
            fi
        fi
        sleep 0.1
    done
    _cluster_write_env "$state" "$n"
    _cluster_log "running in $state"
    cluster_mode_help "$state"
}

# _cluster_write_env STATE N: STATE/cluster.env, KEY=VALUE lines (a shell
# can source it; values have no spaces or quotes).
_cluster_write_env() {
    local state=$1 n=$2 name
    {
        printf 'NOVA_CLUSTER_STATE=%s\n' "$state"
        printf 'NOVA_CLUSTER_API=http://127.0.0.1:%s/v2.1\n' "${NOVA_API_PORT:-8774}"
        printf 'NOVA_CLUSTER_API_PORT=%s\n' "${NOVA_API_PORT:-8774}"
        printf 'NOVA_CLUSTER_QUANTUM=http://127.0.0.1:%s\n' "${NOVA_QUANTUM_PORT:-9696}"
        printf 'NOVA_CLUSTER_QUANTUM_PORT=%s\n' "${NOVA_QUANTUM_PORT:-9696}"
        printf 'NOVA_CLUSTER_DATABASE=postgresql+psycopg://nova@127.0.0.1:%s/nova\n' \
            "$CLUSTER_PG_PORT"
        printf 'NOVA_CLUSTER_POSTGRESQL_PORT=%s\n' "$CLUSTER_PG_PORT"
        printf 'NOVA_CLUSTER_TRANSPORT_URL=rabbit://nova:nova@127.0.0.1:%s/nova\n' \
            "$CLUSTER_RABBIT_PORT"
        printf 'NOVA_CLUSTER_RABBIT_PORT=%s\n' "$CLUSTER_RABBIT_PORT"
        printf 'NOVA_CLUSTER_COMPUTES=%s\n' "$n"
        printf 'NOVA_CLUSTER_HOSTS=%s\n' "$(seq -s, -f 'compute-%g' 1 "$n")"
        printf 'NOVA_CLUSTER_CONFIG=%s\n' "$state/etc/nova-api.conf"
        while read -r name; do
            printf 'NOVA_CLUSTER_PID_%s=%s\n' "$(tr a-z- A-Z_ <<<"$name")" \
                "$(_cluster_pid "$state" "$name")"
        done < <(_cluster_names "$state")
    } >"$state/cluster.env.tmp" && mv -- "$state/cluster.env.tmp" "$state/cluster.env"
}

cluster_mode_help() {
    local state=$1
    cat <<HELP
Endpoints (also in $state/cluster.env):
  compute API  http://127.0.0.1:${NOVA_API_PORT:-8774}/v2.1
  Quantum      http://127.0.0.1:${NOVA_QUANTUM_PORT:-9696}
  configs $state/etc/, logs $state/log/
Try (a network and a port in Quantum, a server on the port, its host):

# --- walkthrough ---
. $state/cluster.env
A=\$NOVA_CLUSTER_API  Q=\$NOVA_CLUSTER_QUANTUM/v1.1/tenants/demo
H=(-H 'X-Auth-Token: demo' -H 'Content-Type: application/json')
NET=\$(curl -s \$Q/networks -H 'X-Auth-Token: admin:demo' -H 'Content-Type: application/json' \\
  -d '{"network": {"name": "web", "plugin": "openvswitch"}}' | jq -r .network.id)
PORT=\$(curl -s -X POST \$Q/networks/\$NET/ports "\${H[@]}" | jq -r .port.id)
SERVER=\$(curl -s \$A/servers "\${H[@]}" -d '{"server": {"name": "web1", "imageRef": "cirros",
  "flavorRef": "1", "networks": [{"port": "'\$PORT'"}]}}' | jq -r .server.id)
for _ in \$(seq 60); do
  STATUS=\$(curl -s \$A/servers/\$SERVER "\${H[@]}" | jq -r .server.status)
  [ "\$STATUS" = BUILD ] || break; sleep 1
done
echo "\$STATUS on \$(curl -s \$A/servers/\$SERVER -H 'X-Auth-Token: admin:demo' |
  jq -r '.server["OS-EXT-SRV-ATTR:host"]')"        # ACTIVE on compute-1 (or compute-2)
# --- end ---

./run_nova.sh --cluster status   each process and the services' heartbeats
./run_nova.sh --cluster stop     stops the processes, PostgreSQL and RabbitMQ
HELP
}

cluster_mode_stop() {
    local state=$1 name pid grace i deadline
    local -a names=() pids=() stopping=()
    if [[ -n "$_CLUSTER_WAITER" ]]; then
        kill "$_CLUSTER_WAITER" 2>/dev/null
        wait "$_CLUSTER_WAITER" 2>/dev/null
        _CLUSTER_WAITER=
    fi
    state=$(cd -- "$state" 2>/dev/null && pwd -P) || return 0
    grace=${NOVA_CLUSTER_STOP_TIMEOUT:-30}
    deadline=$((SECONDS + grace))
    mapfile -t names < <(_cluster_names "$state" | tac)
    # Also whatever has a PID file of an earlier, larger cluster.
    for pid in "$state"/run/nova-compute-*.pid; do
        [[ -e "$pid" ]] || continue
        name=$(basename -- "$pid" .pid)
        [[ " ${names[*]} " == *" $name "* ]] || names=("$name" "${names[@]}")
    done
    # SIGTERM to all at once (each stops in a few seconds), then wait.
    for name in "${names[@]}"; do
        if pid=$(_cluster_pid "$state" "$name"); then
            kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
            pids+=("$pid")
            stopping+=("$name")
        fi
    done
    for i in "${!pids[@]}"; do
        pid=${pids[$i]}
        while kill -0 -- "-$pid" 2>/dev/null && [[ $SECONDS -lt $deadline ]]; do
            sleep 0.1
        done
        if kill -0 -- "-$pid" 2>/dev/null; then
            _cluster_log "${stopping[$i]} (pid $pid) did not stop in ${grace}s, killing it"
            kill -KILL -- "-$pid" 2>/dev/null
        else
            _cluster_log "stopped ${stopping[$i]} (pid $pid)"
        fi
    done
    for name in "${names[@]}"; do
        rm -f -- "$state/run/$name.pid"
    done
    rm -f -- "$state/cluster.env"
    # PostgreSQL and RabbitMQ (data kept in STATE/services for the next start).
    adopt_test_services "$state/services"
    NOVA_TEST_KEEP_DATA=1 stop_test_services
    return 0
}

cluster_mode_status() {
    local state=$1 name pid rc=0 config
    state=$(cd -- "$state" 2>/dev/null && pwd -P) || {
        echo "no cluster in $1"
        return 3
    }
    printf '%-16s %-8s %s\n' PROCESS PID STATE
    while read -r name; do
        if pid=$(_cluster_pid "$state" "$name"); then
            printf '%-16s %-8s %s\n' "$name" "$pid" alive
        else
            pid=$(head -n 1 -- "$state/run/$name.pid" 2>/dev/null | tr -dc 0-9)
            printf '%-16s %-8s %s\n' "$name" "${pid:--}" dead
            rc=3
        fi
    done < <(_cluster_names "$state")
    pid=$(head -n 1 -- "$state/services/pg/postmaster.pid" 2>/dev/null | tr -dc 0-9)
    if _nts_pid_is "$pid" postgres; then
        printf '%-16s %-8s %s\n' postgresql "$pid" alive
    else
        printf '%-16s %-8s %s\n' postgresql "${pid:--}" dead
        rc=3
    fi
    pid=$(head -n 1 -- "$state/services/rabbitmq/rabbitmq.pid" 2>/dev/null | tr -dc 0-9)
    if _nts_pid_is "$pid" beam.smp; then
        printf '%-16s %-8s %s\n' rabbitmq "$pid" alive
    else
        printf '%-16s %-8s %s\n' rabbitmq "${pid:--}" dead
        rc=3
    fi
    config=$state/etc/nova-api.conf
    if [[ -f "$config" ]] && _nts_pid_is "$(head -n 1 -- \
            "$state/services/pg/postmaster.pid" 2>/dev/null | tr -dc 0-9)" postgres; then
        echo
        "$ROOT/.venv/bin/python" "$ROOT/tools/cluster_services.py" --config-file "$config" ||
            rc=3
    fi
    return $rc
}
