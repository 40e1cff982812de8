# shellcheck shell=bash
#
# libvirtd with its qemu driver, for the real-guest tests (sourced by
# tools/test-services.sh).
#
#     libvirt_can_run            root, /dev/net/tun, libvirtd, virtlogd, QEMU?
#     start_libvirtd DIR         exports NOVA_TEST_LIBVIRT_URI
#                                (qemu:///system?socket=DIR/libvirt/sock/libvirt-sock)
#     stop_test_services         destroys its guests, stops both daemons by
#                                PID (SIGKILL after NOVA_TEST_STOP_TIMEOUT)
#
# No systemd: virtlogd and libvirtd are started as daemons with pid files,
# inside the private network namespace NOVA_TEST_NETNS (tools/services/netns.sh)
# and in a private mount namespace where DIR/libvirt/{etc,run,lib,log} are
# mounted over /etc/libvirt, /run/libvirt, /var/lib/libvirt and
# /var/log/libvirt: the host's own libvirt (if any) is neither seen nor
# touched.  Only the client socket is outside, in DIR/libvirt/sock.
# /var/cache/libvirt is ${NOVA_TEST_CACHE:-.cache}/libvirt-cache, so QEMU's
# capabilities are probed once (several seconds), not at every start.
# qemu.conf runs guests as root with no security driver, no cgroups and no
# per-guest /dev namespace (each start would otherwise re-probe or fail in a
# container).  The guests' QEMU processes are found by the pid files libvirt
# writes in DIR/libvirt/run/qemu.

_NTS_PROGRAMS+=(libvirtd virtlogd)
_NTS_LIBVIRT_DIRS=()

libvirt_can_run() {
    local program
    _nts_is_root || return 1
    [[ -c /dev/net/tun ]] || return 1
    for program in libvirtd virtlogd qemu-system-x86_64 qemu-img virsh ip unshare; do
        command -v "$program" >/dev/null 2>&1 || return 1
    done
}

_nts_libvirt_accounts() {
    # The accounts Debian's libvirt-daemon-system would create.
    getent group kvm >/dev/null || groupadd -r kvm || return 1
    getent group libvirt >/dev/null || groupadd -r libvirt || return 1
    # Debian builds the qemu driver with libvirt-qemu:libvirt-qemu as its
    # default account, resolved before qemu.conf is read.
    getent group libvirt-qemu >/dev/null || groupadd -r libvirt-qemu || return 1
    getent passwd libvirt-qemu >/dev/null ||
        useradd -r -g kvm -d /var/lib/libvirt -s /usr/sbin/nologin libvirt-qemu
}

_nts_libvirt_write_config() {
    # _nts_libvirt_write_config DIR
    local dir=$1
    cat >"$dir/etc/libvirtd.conf" <<EOF
unix_sock_dir = "$dir/sock"
unix_sock_rw_perms = "0700"
auth_unix_ro = "none"
auth_unix_rw = "none"
log_outputs = "3:file:$dir/libvirtd.log"
EOF
    cat >"$dir/etc/virtlogd.conf" <<EOF
log_outputs = "3:file:$dir/virtlogd.log"
EOF
    cat >"$dir/etc/qemu.conf" <<'EOF'
user = "root"
group = "root"
security_driver = "none"
dynamic_ownership = 0
remember_owner = 0
namespaces = [ ]
cgroup_controllers = [ ]
EOF
}

start_libvirtd() {
    local base dir cache uri pid start timeout=${NOVA_TEST_START_TIMEOUT:-60}
    _nts_prepare_dir "$1" || return 1
    base=$_NTS_DIR
    dir=$base/libvirt
    uri="qemu:///system?socket=$dir/sock/libvirt-sock"
    if pid=$(_nts_registered_pid "$dir/libvirtd.pid"); then
        export NOVA_TEST_LIBVIRT_URI=$uri
        return 0
    fi
    if ! libvirt_can_run; then
        _nts_log "start_libvirtd: needs root, /dev/net/tun and the packages" \
            "qemu-system-x86, qemu-utils, libvirt-daemon, libvirt-daemon-driver-qemu"
        return 1
    fi
    start=$(_nts_now)
    ensure_test_netns || return 1
    _nts_libvirt_accounts || return 1
    cache=${NOVA_TEST_CACHE:-$_NTS_ROOT/.cache}/libvirt-cache
    mkdir -p -- "$dir"/etc "$dir"/run "$dir"/lib/qemu "$dir"/log/qemu "$dir"/sock "$cache" \
        /etc/libvirt /run/libvirt /var/lib/libvirt /var/log/libvirt /var/cache/libvirt ||
        return 1
    _nts_libvirt_write_config "$dir"
    _NTS_LIBVIRT_DIRS+=("$dir")
    # shellcheck disable=SC2016  # expanded by the inner shell
    if ! ip netns exec "$NOVA_TEST_NETNS" unshare --mount --propagation private -- \
            /bin/sh -c '
                set -e
                mount --bind "$1/etc" /etc/libvirt
                mount --bind "$1/run" /run/libvirt
                mount --bind "$1/lib" /var/lib/libvirt
                mount --bind "$1/log" /var/log/libvirt
                mount --bind "$2" /var/cache/libvirt
                virtlogd -d -p "$1/virtlogd.pid" -f "$1/etc/virtlogd.conf"
                OVS_RUNDIR=$3 libvirtd -d -p "$1/libvirtd.pid" -f "$1/etc/libvirtd.conf"
            ' sh "$dir" "$cache" "${NOVA_TEST_OVS_RUNDIR:-/var/run/openvswitch}" >"$dir/start.log" 2>&1; then
        _nts_log_tail start "$dir/start.log"
        _nts_log_tail libvirtd "$dir/libvirtd.log"
        return 1
    fi
    _nts_register virtlogd "$dir/virtlogd.pid" ""
    _nts_register libvirtd "$dir/libvirtd.pid" ""
    # Ready when the qemu driver answers (its first start probes QEMU).
    local waited=0
    until virsh -q -c "$uri" list --all >/dev/null 2>&1; do
        pid=$(head -n 1 "$dir/libvirtd.pid" 2>/dev/null | tr -dc '0-9')
        if ! _nts_pid_is "$pid" libvirtd; then
            _nts_log "start_libvirtd: libvirtd exited"
            _nts_log_tail libvirtd "$dir/libvirtd.log"
            return 1
        fi
        if [[ $waited -ge $((timeout * 10)) ]]; then
            _nts_log "start_libvirtd: libvirtd did not answer in ${timeout}s"
            _nts_log_tail libvirtd "$dir/libvirtd.log"
            return 1
        fi
        sleep 0.1
        waited=$((waited + 1))
    done
    export NOVA_TEST_LIBVIRT_URI=$uri
    _nts_log "libvirtd ready in $(_nts_elapsed "$start")s: $uri (netns $NOVA_TEST_NETNS)"
}

# Before the daemons stop: destroy and undefine every domain (a guest's QEMU
# outlives libvirtd otherwise).
_nts_libvirt_destroy_guests() {
    local dir uri domain
    for dir in "${_NTS_LIBVIRT_DIRS[@]}"; do
        uri="qemu:///system?socket=$dir/sock/libvirt-sock"
        [[ -S "$dir/sock/libvirt-sock" ]] || continue
        while read -r domain; do
            [[ -n "$domain" ]] || continue
            timeout 20 virsh -q -c "$uri" destroy "$domain" >/dev/null 2>&1 || true
            timeout 20 virsh -q -c "$uri" undefine --nvram "$domain" >/dev/null 2>&1 ||
                timeout 20 virsh -q -c "$uri" undefine "$domain" >/dev/null 2>&1 || true
        done < <(timeout 20 virsh -q -c "$uri" list --all --uuid 2>/dev/null)
    done
}

# After the daemons stopped: no QEMU left (by the pid files libvirt wrote).
_nts_libvirt_kill_guests() {
    local dir pidfile pid
    for dir in "${_NTS_LIBVIRT_DIRS[@]}"; do
        for pidfile in "$dir"/run/qemu/*.pid; do
            [[ -s "$pidfile" ]] || continue
            pid=$(head -n 1 "$pidfile" | tr -dc '0-9')
            if _nts_pid_is "$pid" 'qemu-system-*' 'qemu-kvm'; then
                _nts_log "stop_test_services: guest QEMU (pid $pid) still running, killing it"
                kill -s KILL "$pid" 2>/dev/null || true
            fi
        done
    done
    _NTS_LIBVIRT_DIRS=()
    unset NOVA_TEST_LIBVIRT_URI
}

_NTS_STOP_HOOKS+=(_nts_libvirt_destroy_guests)
# Before the network namespace goes (netns.sh appends its hook after this).
_NTS_AFTER_STOP_HOOKS=(_nts_libvirt_kill_guests "${_NTS_AFTER_STOP_HOOKS[@]}")
