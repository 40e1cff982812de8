"""API extensions shipped with Nova (each file is one extension; see README.md)."""
