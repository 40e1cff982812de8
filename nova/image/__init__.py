"""Images: the image service imageRef names (Glance v2 or the local store) and each host's cache.

``nova.image.api.API`` is the one interface (``is_configured``, ``show``,
``fetch``, ``get_all``, ``delete``); ``glance`` and ``local`` are its
backends, ``cache`` the per-host cache of image bits.
"""
