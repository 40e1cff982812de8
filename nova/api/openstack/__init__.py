"""The OpenStack compute API v2.1 (WebOb + Routes), extensible from ``api_extensions/``.

Extensions import only the public pieces: ``wsgi`` (faults, validation,
``ExtensionDescriptor``'s helpers), ``extensions`` and ``nova.compute.api``.
"""
