"""Plumbing shared by Nova and the reference Quantum service.

Neither service owns it and it imports neither: HTTP serving, JSON Schema
checking of requests, and SQLAlchemy engines tuned per backend. A module
belongs here only if both services need it and it knows nothing of their
domains.
"""
