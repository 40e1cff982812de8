"""Networking: one interface (``api``) over the quantum, neutron and legacy backends."""
