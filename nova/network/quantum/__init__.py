"""The quantum backend: Nova's side of the reference Quantum v1.1 service."""
