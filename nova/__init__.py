"""A compact, runnable slice of OpenStack Nova (the compute control plane).

Nova runs on native threads: oslo.messaging's threading executor and
oslo.service's threading backend. eventlet is installed only because
oslo.service requires it, yet futurist and oslo.utils import it whenever it
is importable, and its import prints a deprecation warning at every start.
It is marked absent here, before any of them is imported, so they take
their non-eventlet paths; a program that did import eventlet first keeps it.
"""

import sys

from oslo_service import backend as _service_backend

sys.modules.setdefault("eventlet", None)  # type: ignore[arg-type]
_service_backend.register_backend_default_hook(lambda: _service_backend.BackendType.THREADING)
