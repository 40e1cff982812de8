"""What Nova's revisions share; they import nothing from the running code."""

from __future__ import annotations


class DowngradeRefused(RuntimeError):
    """Going below a revision would lose data; nothing was changed.

    ``nova-manage db sync`` runs every ``check_downgrade`` before the first
    revision is undone and reports the same reason; this is the revision's own
    guard, for the plain ``alembic`` command.
    """

    def __init__(self, version: int, reason: str) -> None:
        super().__init__(f"Downgrade to version {version} refused: {reason}")
        self.version = version
        self.reason = reason


def refuse_downgrade_if(reason: str | None, down_revision: str | None) -> None:
    """Raise ``DowngradeRefused`` when a revision's check found a ``reason``."""
    if reason:
        raise DowngradeRefused(int(down_revision) if down_revision else 0, reason)
