"""oslo.policy's enforcer, quick enough to ask on every request of an API.

oslo.policy looks for its policy file again on every check and inspects each
node of the rule's tree as it walks it: some 100-150 µs a check, several
times the rest of a simple request. This enforcer looks at the file (and
``policy_dirs``) at most once every ``RELOAD_SECONDS`` (an operator's change
applies within that) and remembers its decisions until then, keyed by the
rule, the target and every credential the caller has (any of them may be
what an operator's rule reads).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from collections.abc import Mapping
from typing import Any

from oslo_config import cfg
from oslo_context import context as oslo_context
from oslo_policy import policy

#: How long the rules and the decisions made with them are kept.
RELOAD_SECONDS = 1.0
#: Decisions kept at most (one per rule, target and set of credentials).
MAX_DECISIONS = 10_000


def _frozen(values: Mapping[str, Any]) -> tuple:
    return tuple(
        sorted(
            (key, tuple(value) if isinstance(value, list) else value)
            for key, value in values.items()
        )
    )


class Enforcer(policy.Enforcer):
    """An enforcer of ``defaults`` on ``conf`` (``[oslo_policy]``), with ``allows()``."""

    def __init__(self, conf: cfg.ConfigOpts, defaults: Iterable[policy.RuleDefault]) -> None:
        self._loaded_at: float | None = None
        self._decisions: dict[tuple, bool] = {}
        super().__init__(conf)
        self.register_defaults(list(defaults))

    def load_rules(self, force_reload: bool = False) -> None:
        """Load the rules; unless forced, at most once every ``RELOAD_SECONDS``."""
        now = time.monotonic()
        if force_reload or self._loaded_at is None or now - self._loaded_at >= RELOAD_SECONDS:
            super().load_rules(force_reload)
            self._decisions.clear()
            self._loaded_at = now

    def clear(self) -> None:
        super().clear()
        self._decisions.clear()
        self._loaded_at = None

    def _get_policy_path(self, path: str) -> str:
        # An embedded or test set-up parses no configuration file: oslo.config
        # cannot search next to one, and only an absolute path is read.
        if os.path.isabs(path) and os.path.exists(path):
            return path
        try:
            return super()._get_policy_path(path)
        except cfg.NotInitializedError:
            raise cfg.ConfigFilesNotFoundError([path]) from None

    def allows(
        self,
        rule: str,
        target: Mapping[str, Any],
        credentials: oslo_context.RequestContext | dict[str, Any],
    ) -> bool:
        """Tell whether ``rule`` allows ``credentials`` on ``target``.

        A rule of another scope than the token's (a system-scoped token on a
        project rule) does not allow.

        :raises oslo_policy.policy.PolicyNotRegistered: ``rule`` is no rule (a bug).
        """
        self.load_rules()
        values: Mapping[str, Any]
        if isinstance(credentials, oslo_context.RequestContext):
            values = credentials.to_policy_values()
        else:
            values = credentials
        try:
            key: tuple | None = (rule, _frozen(target), _frozen(values))
            decision = self._decisions.get(key)  # type: ignore[arg-type]
        except TypeError:  # a value that cannot be a key: decided every time
            key = decision = None
        if decision is None:
            try:
                decision = bool(self.authorize(rule, dict(target), credentials))
            except policy.InvalidScope:
                decision = False
            if key is not None and len(self._decisions) < MAX_DECISIONS:
                self._decisions[key] = decision
        return decision
