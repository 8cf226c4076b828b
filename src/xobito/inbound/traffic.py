"""Counting Meta webhooks per workspace: accepted ones, and ones that failed the signature
check (the connection doctor's evidence of a wrong app secret).

``POST /webhooks/whatsapp`` is open to anyone, so counting must stay cheap and bounded
whatever a caller sends: a request only adds one to an in-memory tally keyed by the
payload's routing keys (its phone number ids and WABA ids; nothing of a rejected body is
kept); the tallies are written at most once per ``interval``, in one statement, to the
workspaces the keys belong to. Keys of no workspace are dropped then, so the table only
ever holds rows of real workspaces (one per workspace and hour); at most ``max_keys``
distinct key sets wait between two writes, the rest are counted as ``dropped``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from xobito.inbound.repository import TrafficRepository, TrafficRow
from xobito.inbound.scope import Scope
from xobito.inbound.signing import RoutingKey, routing_keys
from xobito.kit.time import utcnow

log = structlog.get_logger("xobito.inbound")
Keys = tuple[RoutingKey, ...]
# A delivery's routing keys, its hour, and (accepted ones) the workspaces its signature
# verified it for (None: all it names).
Slot = tuple[Keys, datetime, frozenset[int] | None]


@dataclass
class Tally:
    accepted: int = 0
    rejected: int = 0
    last_accepted_at: datetime | None = None
    last_rejected_at: datetime | None = None


def hour_of(when: datetime) -> datetime:
    return when.replace(minute=0, second=0, microsecond=0)


class TrafficRecorder:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        interval: float = 1.0,
        max_keys: int = 10_000,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.interval = interval
        self.max_keys = max_keys
        self.clock = clock
        self.dropped = 0
        self._pending: dict[Slot, Tally] = {}
        self._timer: asyncio.Task[None] | None = None

    def accepted(self, payload: Any, scope: Scope | None = None) -> None:
        """Counted for the workspaces it names that ``scope`` (what its signature verified)
        allows."""
        only = scope.workspaces if scope is not None and not scope.everyone else None
        self._count(payload, rejected=False, only=only)

    def rejected(self, payload: Any) -> None:
        self._count(payload, rejected=True, only=None)

    def _count(self, payload: Any, *, rejected: bool, only: frozenset[int] | None) -> None:
        keys = routing_keys(payload)
        if not keys:
            return  # names no number or WABA: nobody's traffic
        now = self.clock()
        slot = (keys, hour_of(now), only)
        tally = self._pending.get(slot)
        if tally is None:
            if len(self._pending) >= self.max_keys:
                self.dropped += 1
                return
            tally = self._pending[slot] = Tally()
        if rejected:
            tally.rejected += 1
            tally.last_rejected_at = now
        else:
            tally.accepted += 1
            tally.last_accepted_at = now
        if self._timer is None:
            self._timer = asyncio.create_task(self._flush_later(), name="xobito-webhook-traffic")

    async def _flush_later(self) -> None:
        try:
            await asyncio.sleep(self.interval)
        finally:
            self._timer = None
        try:
            await self.flush()
        except Exception:  # counts are evidence, not data: never let them break anything
            log.exception("webhook_traffic_flush_failed")

    async def flush(self) -> int:
        """Write what is pending now; returns how many workspace-hours were written."""
        pending, self._pending = self._pending, {}
        if not pending:
            return 0
        async with self.sessionmaker() as session:
            rows = await _rows(TrafficRepository(session), pending)
            await TrafficRepository(session).add(rows)
            await session.commit()
        return len(rows)

    async def discard(self) -> None:
        """Forget what is pending and stop the timer (tests, between cases)."""
        self._pending = {}
        timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await timer

    async def close(self) -> None:
        timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await timer
        await self.flush()


async def _rows(repo: TrafficRepository, pending: dict[Slot, Tally]) -> list[TrafficRow]:
    """Per workspace and hour: each counted webhook once per workspace it named."""
    numbers = {v for keys, _, _ in pending for kind, v in keys if kind == "number"}
    wabas = {v for keys, _, _ in pending for kind, v in keys if kind == "waba"}
    owners = await repo.owners(numbers)
    connected = await repo.waba_workspaces(wabas)
    totals: dict[tuple[int, datetime], Tally] = {}
    for (keys, hour, only), tally in pending.items():
        workspaces: set[int] = set()
        for kind, value in keys:
            if kind == "number" and value in owners:
                workspaces.add(owners[value])
            elif kind == "waba":
                workspaces |= connected.get(value, set())
        if only is not None:
            workspaces &= only
        for workspace_id in workspaces:
            total = totals.setdefault((workspace_id, hour), Tally())
            total.accepted += tally.accepted
            total.rejected += tally.rejected
            total.last_accepted_at = _later(total.last_accepted_at, tally.last_accepted_at)
            total.last_rejected_at = _later(total.last_rejected_at, tally.last_rejected_at)
    return [
        TrafficRow(ws, hour, t.accepted, t.rejected, t.last_accepted_at, t.last_rejected_at)
        for (ws, hour), t in sorted(totals.items())
    ]


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None or b is None:
        return a or b
    return max(a, b)
