"""Entry points of Nova's commands."""
