"""Nova's HTTP APIs."""
