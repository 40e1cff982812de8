"""A compact, runnable slice of OpenStack Nova (the compute control plane)."""
