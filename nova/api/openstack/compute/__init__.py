"""Core controllers of the compute API: versions, flavors, servers, extensions."""
