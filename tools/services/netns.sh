# shellcheck shell=bash
#
# The private network namespace of the real-guest tests (sourced by
# tools/test-services.sh).  Everything that touches host networking -
# libvirtd and its guests, taps, bridges, Open vSwitch, dnsmasq - lives in
# the one namespace named by NOVA_TEST_NETNS (default nova-test-<pid of the
# shell>); the first start_* that needs it calls ensure_test_netns, and
# stop_test_services deletes it (when this shell created it) after every
# server has stopped.

# Did this shell create the namespace (so it must delete it)?
_NTS_NETNS_OWNED=0

# ensure_test_netns: create NOVA_TEST_NETNS (idempotent) with lo up; export it.
ensure_test_netns() {
    export NOVA_TEST_NETNS=${NOVA_TEST_NETNS:-nova-test-$$}
    if ! ip netns list 2>/dev/null | awk '{ print $1 }' | grep -qxF -- "$NOVA_TEST_NETNS"; then
        ip netns add "$NOVA_TEST_NETNS" || return 1
        _NTS_NETNS_OWNED=1
    fi
    ip -n "$NOVA_TEST_NETNS" link set lo up
}

_nts_delete_netns() {
    if [[ $_NTS_NETNS_OWNED == 1 && -n "${NOVA_TEST_NETNS:-}" ]]; then
        ip netns delete "$NOVA_TEST_NETNS" 2>/dev/null || true
        _NTS_NETNS_OWNED=0
        unset NOVA_TEST_NETNS
    fi
}
_NTS_AFTER_STOP_HOOKS+=(_nts_delete_netns)
