"""Timezone-aware time helpers and the API's timestamp format."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(value: datetime | None) -> str | None:
    """``2026-04-16T12:00:00.000000Z``: the spec's timestamp format."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def seconds_until_next_month(now: datetime) -> int:
    """Whole seconds from ``now`` to the first instant of the next calendar month (UTC)."""
    now = now.astimezone(UTC)
    if now.month == 12:
        start = datetime(now.year + 1, 1, 1, tzinfo=UTC)
    else:
        start = datetime(now.year, now.month + 1, 1, tzinfo=UTC)
    delta = (start - now).total_seconds()
    return max(1, int(delta) + (0 if delta == int(delta) else 1))
