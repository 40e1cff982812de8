"""``quantum-agent``: the per-host half of the Linux bridge and Open vSwitch plugins.

Compute makes the *edge binding* of a VIF (a tap named from the VIF uuid; an
Open vSwitch Interface with ``external_ids:iface-id`` = the VIF uuid); the
agent finds those bindings on its host, asks the Quantum API which port each
interface-id is attached to, and realises that *logical* connectivity: the tap
on the network's bridge, or the Open vSwitch port tagged with the network's
local VLAN. When the attachment goes, the binding is unwired (off the bridge,
or on the dead VLAN). Compute is not involved when logical connectivity changes.
"""
