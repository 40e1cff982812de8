"""The legacy (nova-network) backend: Nova's own flat and VLAN networks.

Networks and their fixed IPs live in Nova's database (``networks``,
``fixed_ips``) and are created with ``nova-manage network create``. Every
VIF carries the ``network_id`` of its network and one fixed IP; compute
plugs it into the network's bridge (and VLAN interface).
"""
