# Open vSwitch for the tests: ovsdb-server and ovs-vswitchd in userspace
# (bridges with datapath_type=netdev: no kernel module needed), inside the
# private network namespace NOVA_TEST_NETNS, with their own database and
# socket directory.  Sourced by tools/test-services.sh; needs root.
#
#   start_openvswitch DIR   -> exports NOVA_TEST_OVSDB=unix:DIR/openvswitch/db.sock
#                              and NOVA_TEST_OVS_RUNDIR=DIR/openvswitch
#
# ovs-vsctl finds the database through OVS_RUNDIR: a process that runs it
# without --db (libvirtd for <virtualport type='openvswitch'>) must be
# started with OVS_RUNDIR=$NOVA_TEST_OVS_RUNDIR.
#
# Both daemons are registered with _nts_register, so stop_test_services
# stops them; the namespace is created here when absent (ensure_test_netns,
# tools/services/netns.sh).

_NTS_PROGRAMS+=(ovsdb-server ovs-vswitchd)

start_openvswitch() {
    local dir=$1/openvswitch schema pid
    if ! _nts_is_root; then
        _nts_log "start_openvswitch: needs root (network namespace)"
        return 1
    fi
    for program in ovsdb-server ovs-vswitchd ovsdb-tool; do
        if ! command -v "$program" >/dev/null 2>&1 &&
                ! [[ -x /usr/sbin/$program ]]; then
            _nts_log "start_openvswitch: $program is not installed (apt: openvswitch-switch)"
            return 1
        fi
    done
    ensure_test_netns || {
        _nts_log "start_openvswitch: cannot create network namespace $NOVA_TEST_NETNS"
        return 1
    }
    if pid=$(_nts_registered_pid "$dir/ovs-vswitchd.pid"); then
        export NOVA_TEST_OVSDB="unix:$dir/db.sock" NOVA_TEST_OVS_RUNDIR=$dir
        return 0
    fi
    mkdir -p "$dir"
    _NTS_DIRS+=("$dir|1")
    schema=/usr/share/openvswitch/vswitch.ovsschema
    ovsdb-tool create "$dir/conf.db" "$schema" >/dev/null
    ip netns exec "$NOVA_TEST_NETNS" env OVS_RUNDIR="$dir" OVS_DBDIR="$dir" \
        ovsdb-server "$dir/conf.db" --remote="punix:$dir/db.sock" \
        --pidfile="$dir/ovsdb-server.pid" --unixctl="$dir/ovsdb-server.ctl" \
        --log-file="$dir/ovsdb-server.log" -vconsole:off --detach --no-chdir || {
        _nts_log "start_openvswitch: ovsdb-server did not start (see $dir/ovsdb-server.log)"
        return 1
    }
    _nts_register ovsdb-server "$dir/ovsdb-server.pid" ""
    ovs-vsctl --db="unix:$dir/db.sock" --no-wait init
    ip netns exec "$NOVA_TEST_NETNS" env OVS_RUNDIR="$dir" \
        ovs-vswitchd "unix:$dir/db.sock" \
        --pidfile="$dir/ovs-vswitchd.pid" --unixctl="$dir/ovs-vswitchd.ctl" \
        --log-file="$dir/ovs-vswitchd.log" -vconsole:off --detach --no-chdir || {
        _nts_log "start_openvswitch: ovs-vswitchd did not start (see $dir/ovs-vswitchd.log)"
        return 1
    }
    _nts_register ovs-vswitchd "$dir/ovs-vswitchd.pid" ""
    export NOVA_TEST_OVSDB="unix:$dir/db.sock" NOVA_TEST_OVS_RUNDIR=$dir
}
