# shellcheck shell=bash
#
# ./run_nova.sh --guests: the embedded cloud with real guests on this machine
# (sourced by run_nova.sh; as root). Everything is made by the project's own
# test machinery (tools/test-services.sh and tools/services/*.sh) and stopped
# by guests_mode_stop:
#
#     guests_mode_setup STATE     a private network namespace NOVA_TEST_NETNS,
#                                 libvirtd (qemu driver, TCG) in it, the tiny
#                                 guest image (tools/guest-image/build.py)
#                                 imported into STATE's local image store,
#                                 STATE/nova.conf and STATE/quantum-agent.conf;
#                                 sets GUESTS_IMAGE (the bootable image's id)
#     guests_mode_stop            nova-all (if started), the agent's dnsmasq and
#                                 qdhcp-* namespaces, every guest, libvirtd,
#                                 the namespace
#
# nova-all runs outside the namespace (its API on 127.0.0.1), with the
# embedded Quantum's agent ([quantum] agent_config_file: Linux bridge plugin,
# DHCP) and nova-compute's bridges ([libvirt] plug_netns) inside it.

# shellcheck source=tools/test-services.sh
source "$ROOT/tools/test-services.sh"

GUESTS_STATE=
GUESTS_NOVA_PID=

# _guests_kill_pidfile FILE NAME: stop the process of FILE if it is NAME.
_guests_kill_pidfile() {
    local pid
    pid=$(head -n 1 "$1" 2>/dev/null | tr -dc '0-9')
    [[ -n "$pid" ]] || return 0
    if grep -qa -- "$2" "/proc/$pid/cmdline" 2>/dev/null; then
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 50); do
            [[ -d /proc/$pid ]] || return 0
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
    fi
}

# _guests_stop_dhcp STATE: the agent leaves its dnsmasq running across its own
# restarts (it resyncs them); here they go with everything else.
_guests_stop_dhcp() {
    local dir network
    for dir in "$1"/dhcp/*/; do
        [[ -d "$dir" ]] || continue
        network=$(basename -- "$dir")
        _guests_kill_pidfile "$dir/pid" dnsmasq
        ip netns delete "qdhcp-$network" 2>/dev/null || true
    done
}

# _guests_leftovers STATE: what a killed earlier run in STATE left behind.
_guests_leftovers() {
    local state=$1 dir uri domain
    _guests_kill_pidfile "$state/nova-all.pid" nova-all
    _guests_stop_dhcp "$state"
    dir=$state/services/libvirt
    uri="qemu:///system?socket=$dir/sock/libvirt-sock"
    if [[ -S "$dir/sock/libvirt-sock" ]]; then
        while read -r domain; do
            [[ -n "$domain" ]] && timeout 20 virsh -q -c "$uri" destroy "$domain" >/dev/null 2>&1
        done < <(timeout 20 virsh -q -c "$uri" list --uuid 2>/dev/null)
    fi
    _guests_kill_pidfile "$dir/libvirtd.pid" libvirtd
    _guests_kill_pidfile "$dir/virtlogd.pid" virtlogd
    if [[ -f "$state/netns" ]]; then
        ip netns delete "$(cat "$state/netns")" 2>/dev/null || true
    fi
    rm -rf -- "$state"
}

_guests_nova_manage() {
    "$ROOT/.venv/bin/nova-manage" --config-file "$GUESTS_STATE/nova.conf" "$@"
}

guests_mode_setup() {
    # guests_mode_setup STATE (a directory of its own: emptied first)
    local state=$1 image kernel ramdisk vmlinux
    if [[ "$(id -u)" != 0 ]]; then
        say "--guests needs root (libvirtd, network namespaces, bridges)"
        return 1
    fi
    _guests_leftovers "$state"
    mkdir -p -- "$state"
    GUESTS_STATE=$(cd -- "$state" && pwd -P)
    export NOVA_TEST_NETNS=${NOVA_TEST_NETNS:-nova-guests-$$}
    ensure_test_netns || return 1
    echo "$NOVA_TEST_NETNS" >"$GUESTS_STATE/netns"
    start_libvirtd "$GUESTS_STATE/services" || return 1
    image=$("$ROOT/.venv/bin/python" "$ROOT/tools/guest-image/build.py" --uncompressed) ||
        return 1
    # The kernel uncompressed boots some 2 s faster under TCG (PVH entry).
    vmlinux=$image/vmlinux
    [[ -f "$vmlinux" ]] || vmlinux=$image/vmlinuz
    cat >"$GUESTS_STATE/quantum-agent.conf" <<CONF
# Written by run_nova.sh --guests: the agent nova-all runs beside the embedded Quantum.
[agent]
netns = $NOVA_TEST_NETNS
plugins = linuxbridge
polling_interval = ${NOVA_GUESTS_AGENT_INTERVAL:-0.3}
CONF
    cat >"$GUESTS_STATE/nova.conf" <<CONF
# Written by run_nova.sh --guests; every option is listed in etc/nova.conf.sample.
[DEFAULT]
state_path = $GUESTS_STATE
host = $(hostname)
transport_url = fake://
osapi_compute_listen = 127.0.0.1
osapi_compute_listen_port = ${NOVA_API_PORT:-8774}
# QEMU only touches the memory a guest uses (~100 MB for the tiny guest).
ram_allocation_ratio = 16.0

[database]
connection = sqlite:///\$state_path/nova.sqlite

[network]
backend = quantum

[quantum]
embedded = true
url = http://127.0.0.1:${NOVA_QUANTUM_PORT:-9696}
connection = sqlite:///\$state_path/quantum.sqlite
agent_config_file = $GUESTS_STATE/quantum-agent.conf

[image]
backend = local

[libvirt]
virt_type = qemu
connection_uri = $NOVA_TEST_LIBVIRT_URI
plug_vifs = true
plug_netns = $NOVA_TEST_NETNS
CONF
    kernel=$(_guests_nova_manage image import guest-kernel "$vmlinux" \
        --disk-format aki --container-format aki) || return 1
    ramdisk=$(_guests_nova_manage image import guest-ramdisk "$image/initrd.img" \
        --disk-format ari --container-format ari) || return 1
    truncate -s 1M "$GUESTS_STATE/machine.img"  # the guest runs from its initramfs
    GUESTS_IMAGE=$(_guests_nova_manage image import guest "$GUESTS_STATE/machine.img" \
        --disk-format ami --container-format ami \
        --property "kernel_id=$kernel" --property "ramdisk_id=$ramdisk" \
        --property "os_command_line=$(cat "$image/cmdline")") || return 1
    export GUESTS_IMAGE
}

# guests_mode_start_nova: nova-all in the background; wait until both APIs answer.
guests_mode_start_nova() {
    local api="http://127.0.0.1:${NOVA_API_PORT:-8774}/"
    local quantum="http://127.0.0.1:${NOVA_QUANTUM_PORT:-9696}/"
    "$ROOT/.venv/bin/nova-all" --config-file "$GUESTS_STATE/nova.conf" \
        >>"$GUESTS_STATE/nova-all.log" 2>&1 &
    GUESTS_NOVA_PID=$!
    echo "$GUESTS_NOVA_PID" >"$GUESTS_STATE/nova-all.pid"
    for _ in $(seq 600); do
        if curl -sf --noproxy '*' -o /dev/null "$api" &&
                curl -sf --noproxy '*' -o /dev/null "$quantum"; then
            return 0
        fi
        if ! kill -0 "$GUESTS_NOVA_PID" 2>/dev/null; then
            say "nova-all exited; the end of $GUESTS_STATE/nova-all.log:"
            tail -n 30 -- "$GUESTS_STATE/nova-all.log" >&2
            return 1
        fi
        sleep 0.1
    done
    say "nova-all did not answer in 60 s (see $GUESTS_STATE/nova-all.log)"
    return 1
}

guests_mode_stop() {
    local pid=$GUESTS_NOVA_PID
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    GUESTS_NOVA_PID=
    if [[ -n "$GUESTS_STATE" ]]; then
        _guests_stop_dhcp "$GUESTS_STATE"
        rm -f -- "$GUESTS_STATE/nova-all.pid" "$GUESTS_STATE/netns"
    fi
    # Every guest (before libvirtd), libvirtd, virtlogd, then the namespace.
    stop_test_services
}
