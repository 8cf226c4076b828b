"""What the connection doctor answers: one ``Check`` per question, and the report."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from xobito.kit.time import iso

Status = Literal["ok", "warning", "error", "skipped"]
STATUSES: tuple[Status, ...] = ("ok", "warning", "error", "skipped")


@dataclass(frozen=True, slots=True)
class Check:
    """One finding: ``title`` is short, ``explanation`` says in plain words what is going on,
    ``action`` what to do about it (None when nothing needs doing). ``facts`` carries the
    values behind it (a quality rating, counts), for pages that show them."""

    id: str
    status: Status
    title: str
    explanation: str
    action: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "title": self.title,
            "explanation": self.explanation,
            "action": self.action,
            "facts": self.facts,
        }


@dataclass(frozen=True, slots=True)
class DoctorReport:
    workspace_id: int
    subdomain: str
    provider: str | None
    checked_at: datetime
    checks: tuple[Check, ...]

    @property
    def status(self) -> Status:
        """``error`` if any check failed, else ``warning`` if any warned, else ``ok``."""
        found = {c.status for c in self.checks}
        for worst in ("error", "warning"):
            if worst in found:
                return worst
        return "ok"

    @property
    def has_errors(self) -> bool:
        return self.status == "error"

    def count(self, status: Status) -> int:
        return sum(1 for c in self.checks if c.status == status)

    @property
    def summary(self) -> str:
        errors, warnings = self.count("error"), self.count("warning")
        if not errors and not warnings:
            return "Everything checked is working."
        parts = []
        if errors:
            parts.append(f"{errors} problem{'s' if errors > 1 else ''}")
        if warnings:
            parts.append(f"{warnings} warning{'s' if warnings > 1 else ''}")
        return " and ".join(parts) + " found."

    def record(self) -> dict[str, Any]:
        return {
            "tenant_id": self.workspace_id,
            "subdomain": self.subdomain,
            "provider": self.provider,
            "status": self.status,
            "summary": self.summary,
            "checked_at": iso(self.checked_at),
            "checks": [c.record() for c in self.checks],
        }
