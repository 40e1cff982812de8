"""The request context: who is asking, on behalf of which project."""

from __future__ import annotations

import dataclasses
import uuid


def _request_id() -> str:
    return f"req-{uuid.uuid4()}"


@dataclasses.dataclass(frozen=True)
class RequestContext:
    """Identity of a caller; every database query is scoped by it.

    A non-admin context sees only its own project's rows.
    """

    user_id: str | None
    project_id: str | None
    is_admin: bool = False
    request_id: str = dataclasses.field(default_factory=_request_id)

    def elevated(self) -> RequestContext:
        """Return a copy of this context with admin rights."""
        return dataclasses.replace(self, is_admin=True)


def get_admin_context() -> RequestContext:
    """Return a context for Nova's own work, not scoped to a project."""
    return RequestContext(user_id=None, project_id=None, is_admin=True)
