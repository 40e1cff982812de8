"""The request context: who is asking, on behalf of which project.

``RequestContext`` is oslo.context's: a new one becomes the current thread's
context, so oslo.log's ``ContextFormatter`` puts its request id in every
line logged while it is handled, in the API and, as it travels over RPC
(``nova.rpc.RequestContextSerializer``), in the scheduler and on the compute
host.
"""

from __future__ import annotations

import copy
from typing import Any

from oslo_context import context


class RequestContext(context.RequestContext):
    """Identity of a caller; every database query is scoped by it.

    A non-admin context sees only its own project's rows.
    """

    is_admin: bool

    def __init__(
        self,
        user_id: str | None = None,
        project_id: str | None = None,
        is_admin: bool = False,
        request_id: str | None = None,
        service_catalog: list[dict] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            user_id=user_id,
            project_id=project_id,
            is_admin=is_admin,
            request_id=request_id,
            **kwargs,
        )
        #: Keystone's catalog entries of the services Nova calls (X-Service-Catalog).
        self.service_catalog = service_catalog or []

    def to_dict(self) -> dict[str, Any]:
        """Return the context's attributes, the service catalog with them (for RPC)."""
        values = super().to_dict()
        values["service_catalog"] = self.service_catalog
        return values

    @classmethod
    def from_dict(cls, values: dict[str, Any], **kwargs: Any) -> RequestContext:
        """Make a context of ``to_dict``'s values."""
        kwargs.setdefault("service_catalog", values.get("service_catalog"))
        return super().from_dict(values, **kwargs)

    def elevated(self) -> RequestContext:
        """Return a copy of this context with admin rights (same request id).

        The copy has the ``admin`` role too; this context's roles are left as they are.
        """
        elevated = copy.copy(self)
        elevated.is_admin = True
        elevated.roles = list(self.roles)
        if "admin" not in elevated.roles:
            elevated.roles.append("admin")
        return elevated

    def to_policy_values(self) -> Any:
        """The credentials a policy rule reads: oslo.context's and ``is_admin``."""
        # A plain dictionary: oslo.context's warns on every read of a key it did not set.
        values = dict(super().to_policy_values().items())
        values["is_admin"] = self.is_admin
        return values


def get_admin_context() -> RequestContext:
    """Return a context for Nova's own work, not scoped to a project.

    It does not replace the thread's current context: a request handled on
    this thread keeps its request id in the log.
    """
    return RequestContext(user_id=None, project_id=None, is_admin=True, overwrite=False)
