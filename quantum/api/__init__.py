"""The Quantum API v1.1 as a WSGI application (WebOb + Routes)."""
