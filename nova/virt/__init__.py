"""Hypervisor drivers: the compute host's side (never touches the database)."""
