"""The scheduler: picks a compute host for each instance and claims its resources."""
