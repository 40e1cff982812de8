"""Compute: the API the REST layer calls, and the manager that runs on each host."""
