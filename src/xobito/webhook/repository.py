"""All SQL about webhook endpoints, events, deliveries and logs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from xobito.kit.repository import ScopedRepository
from xobito.kit.sql import copy_rows, dialect_of, next_ids
from xobito.kit.ttl_cache import shared_cache
from xobito.models import WebhookDelivery, WebhookEndpoint, WebhookEvent, WebhookLog

_ENABLED = shared_cache()


def forget_endpoints() -> None:
    _ENABLED.clear()


class EndpointRepository(ScopedRepository[WebhookEndpoint]):
    """A workspace's endpoints of one ``kind`` (``xobito``: our events; ``meta``: Meta
    webhook forwards)."""

    model = WebhookEndpoint

    def __init__(self, session: AsyncSession, workspace_id: int, kind: str = "xobito") -> None:
        super().__init__(session, workspace_id)
        self.kind = kind

    def scope(self) -> ColumnElement[bool]:
        return and_(
            WebhookEndpoint.workspace_id == self.workspace_id, WebhookEndpoint.kind == self.kind
        )

    async def subscribed(self, topic: str) -> list[int]:
        """Ids of the enabled endpoints (of any kind: their topics never overlap) whose
        selection includes ``topic``.

        Every change asks this, so the workspace's enabled endpoints are cached per process
        like tokens; endpoint changes in this process clear the cache at once.
        """

        async def load() -> list[tuple[int, frozenset[str]]]:
            stmt = select(WebhookEndpoint.id, WebhookEndpoint.events).where(
                WebhookEndpoint.workspace_id == self.workspace_id,
                WebhookEndpoint.enabled.is_(True),
            )
            return [(row.id, frozenset(row.events)) for row in await self.session.execute(stmt)]

        wait = not self.session.in_transaction()  # see TTLCache.load
        enabled = await _ENABLED.load(self.workspace_id, load, wait=wait)
        return [endpoint_id for endpoint_id, events in enabled if topic in events]

    async def all(self) -> Sequence[WebhookEndpoint]:
        stmt = self.select().order_by(WebhookEndpoint.id)
        endpoints: Sequence[WebhookEndpoint] = (await self.session.execute(stmt)).scalars().all()
        return endpoints

    async def logs(self, endpoint_id: int, limit: int, offset: int) -> Sequence[WebhookLog]:
        stmt = (
            select(WebhookLog)
            .where(WebhookLog.endpoint_id == endpoint_id)
            .order_by(WebhookLog.id.desc())
            .limit(limit)
            .offset(offset)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def attempts(
        self, endpoint_id: int, limit: int, offset: int
    ) -> tuple[list[tuple[WebhookLog, bytes | None]], int]:
        """An endpoint's attempts, newest first, each with the exact body it sent (None once
        the event is gone), and how many it has."""
        stmt = (
            select(WebhookLog, WebhookEvent.body)
            .outerjoin(WebhookEvent, WebhookEvent.event_id == WebhookLog.event_id)
            .where(WebhookLog.endpoint_id == endpoint_id)
            .order_by(WebhookLog.id.desc())
            .limit(limit)
            .offset(offset)
        )
        rows: list[tuple[WebhookLog, bytes | None]] = [
            (log, body) for log, body in (await self.session.execute(stmt)).all()
        ]
        count = select(func.count()).select_from(WebhookLog)
        total = await self.session.scalar(count.where(WebhookLog.endpoint_id == endpoint_id))
        return rows, int(total or 0)

    async def pending(self, endpoint_id: int) -> int:
        """Deliveries to the endpoint still waiting for an attempt or a retry."""
        stmt = select(func.count()).select_from(WebhookDelivery)
        stmt = stmt.where(
            WebhookDelivery.endpoint_id == endpoint_id, WebhookDelivery.state == "pending"
        )
        return int(await self.session.scalar(stmt) or 0)


class EventRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def existing(self, event_ids: Sequence[str]) -> set[str]:
        """Which of these event ids are in the outbox already."""
        if not event_ids:
            return set()
        stmt = select(WebhookEvent.event_id).where(WebhookEvent.event_id.in_(list(event_ids)))
        return set((await self.session.execute(stmt)).scalars().all())

    async def add_many(
        self, records: Sequence[tuple[dict[str, Any], Sequence[int]]], now: datetime
    ) -> None:
        """Events (column values) with the endpoints to deliver each to: one INSERT for
        the events, in order, and one for their pending deliveries (PostgreSQL: the ids
        first, then one COPY each; a bulk import writes an event per contact)."""
        if records and dialect_of(self.session) == "postgresql":
            new = await next_ids(self.session, "webhook_events", len(records))
            keys = ("workspace_id", "event_id", "event", "topic", "body", "message_id")
            await copy_rows(
                self.session,
                "webhook_events",
                ("id", *keys, "created_at"),
                [
                    (i, *(r.get(k) for k in keys), now)
                    for i, (r, _) in zip(new, records, strict=True)
                ],
            )
            await copy_rows(
                self.session,
                "webhook_deliveries",
                ("event_id", "endpoint_id", "state", "attempts", "next_attempt_at", "created_at"),
                [
                    (i, e, "pending", 0, now, now)
                    for i, (_, endpoints) in zip(new, records, strict=True)
                    for e in endpoints
                ],
            )
            return
        stmt = insert(WebhookEvent).returning(WebhookEvent.id, sort_by_parameter_order=True)
        ids = (await self.session.execute(stmt, [r for r, _ in records])).scalars().all()
        deliveries = [
            {"event_id": event_id, "endpoint_id": e, "state": "pending", "next_attempt_at": now}
            for event_id, (_, endpoints) in zip(ids, records, strict=True)
            for e in endpoints
        ]
        await self.session.execute(insert(WebhookDelivery), deliveries)


@dataclass(frozen=True, slots=True)
class Claimed:
    """A leased delivery with everything needed to send it, detached from the session."""

    delivery_id: int
    endpoint_id: int
    attempts: int
    event_id: str
    event: str
    body: bytes
    url: str
    secrets: tuple[str, ...]


class DeliveryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(
        self, limit: int, now: datetime, lease_until: datetime, exclude_endpoints: Sequence[int]
    ) -> list[Claimed]:
        due = (
            select(WebhookDelivery.id)
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .where(
                WebhookDelivery.state == "pending",
                WebhookDelivery.next_attempt_at <= now,
                (WebhookDelivery.leased_until.is_(None)) | (WebhookDelivery.leased_until < now),
                WebhookEndpoint.enabled.is_(True),
            )
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
            .limit(limit)
            .with_for_update(of=WebhookDelivery, skip_locked=True)
        )
        if exclude_endpoints:
            due = due.where(WebhookDelivery.endpoint_id.not_in(list(exclude_endpoints)))
        ids = list((await self.session.execute(due)).scalars().all())
        if not ids:
            return []
        await self.session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id.in_(ids))
            .values(leased_until=lease_until)
        )
        rows = (
            await self.session.execute(
                select(
                    WebhookDelivery.id,
                    WebhookDelivery.endpoint_id,
                    WebhookDelivery.attempts,
                    WebhookEvent.event_id,
                    WebhookEvent.event,
                    WebhookEvent.body,
                    WebhookEndpoint.url,
                    WebhookEndpoint.secret,
                    WebhookEndpoint.previous_secret,
                    WebhookEndpoint.previous_secret_expires_at,
                )
                .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
                .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
                .where(WebhookDelivery.id.in_(ids))
                .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
            )
        ).all()
        out = []
        for r in rows:
            keys = [r.secret]
            if (
                r.previous_secret
                and r.previous_secret_expires_at
                and r.previous_secret_expires_at > now
            ):
                keys.append(r.previous_secret)
            out.append(
                Claimed(
                    r.id, r.endpoint_id, r.attempts, r.event_id, r.event, r.body, r.url, tuple(keys)
                )
            )
        return out

    async def purge_logs(self, before: datetime) -> int:
        result = await self.session.execute(
            delete(WebhookLog).where(WebhookLog.created_at < before)
        )
        return int(getattr(result, "rowcount", 0) or 0)
