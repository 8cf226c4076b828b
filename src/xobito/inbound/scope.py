"""Which workspaces a stored webhook body may change: what its signature verified.

Accepting a body records, with its inbox row, the workspaces whose app secret verified the
signature, or ``"*"`` when the app-level secret did (it speaks for every workspace). The
worker applies each change only to workspaces in that scope, so a tenant's secret never
changes another tenant's data, whatever ids the body names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

EVERYONE_STORED = "*"


@dataclass(frozen=True)
class Scope:
    workspaces: frozenset[int] = frozenset()
    everyone: bool = False  # signed with the app-level secret

    def allows(self, workspace_id: int) -> bool:
        return self.everyone or workspace_id in self.workspaces

    def stored(self) -> str | list[int]:
        """The JSON value kept in ``inbox_events.verified_for``."""
        return EVERYONE_STORED if self.everyone else sorted(self.workspaces)

    @classmethod
    def of(cls, workspace_ids: set[int] | frozenset[int] | list[int]) -> Scope:
        return cls(frozenset(workspace_ids))

    @classmethod
    def from_stored(cls, value: Any) -> Scope | None:
        """The scope a row was stored with; ``None`` for a row written before scopes were
        recorded (the processor then works out what its signature covered)."""
        if value == EVERYONE_STORED:
            return EVERYONE
        if isinstance(value, list):
            return cls(frozenset(v for v in value if isinstance(v, int)))
        return None


EVERYONE = Scope(everyone=True)
