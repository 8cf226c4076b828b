"""All SQL of the send hot path: the recipient before Meta is called, the outcome after.

Each is one statement. On PostgreSQL they run on a driver connection (asyncpg, prepared and
cached by it; ``kit.db.driver_connection``), outside SQLAlchemy's statement machinery, which
cost more CPU than the rest of a send together. The write is a single statement (message,
chat, outbox event and its deliveries, sandbox jobs, the answer stored on the request's
Idempotency-Key, in one CTE), so it is atomic in autocommit as well. SQLite writes the same
rows through the session (``Sender._store``) and the request boundary stores the answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from xobito.kit.db import driver_connection
from xobito.live.publish import committed
from xobito.models import Chat, Contact, Message


@dataclass(frozen=True, slots=True)
class Recipient:
    """The contact a send goes to, with its chat (``None`` until one exists). A contact the
    send creates has no id until the send's outcome is stored (``Sender.deliver``)."""

    contact_id: int | None
    phone: str
    is_opted_out: bool
    chat_id: int | None
    last_inbound_at: datetime | None
    created: bool = False


@dataclass(slots=True)
class OutboundMessage:
    """A send's outcome as stored (``messages`` columns): built without the ORM, which costs
    more than the write itself on the hot path."""

    workspace_id: int
    chat_id: int
    contact_id: int
    type: str
    phone: str
    phone_number_id: str
    text: str | None
    payload: dict[str, Any] | None
    status: str = "pending"
    wamid: str | None = None
    response: dict[str, Any] | None = None
    error_code: int | None = None
    error_message: str | None = None
    sent_at: datetime | None = None
    failed_at: datetime | None = None
    direction: str = "outbound"
    token_id: int | None = None  # the API token that asked for it
    user_id: int | None = None  # the dashboard user who sent it
    graph_status: int | None = None  # HTTP status of Meta's answer

    def as_model(self) -> Message:
        return Message(**{f: getattr(self, f) for f in self.__slots__})


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """An event for the outbox and the endpoints it goes to."""

    event_id: str
    name: str
    body: bytes
    endpoint_ids: list[int]


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    """The answer to store on an Idempotency-Key reservation (``idempotency_keys`` row)."""

    idempotency_id: int
    owner: str  # the reservation's: a key another request took over is left alone
    status: int
    body: bytes


@dataclass(frozen=True, slots=True)
class QueuedJob:
    kind: str
    payload: dict[str, Any]
    run_at: datetime


RECIPIENT_SQL = """
SELECT c.id, c.phone, c.is_opted_out, ch.id AS chat_id, ch.last_inbound_at
FROM contacts AS c
LEFT JOIN chats AS ch ON ch.workspace_id = c.workspace_id AND ch.contact_id = c.id
WHERE c.workspace_id = $1 AND c.phone = $2
"""

# $16 is the one timestamp of the write (created_at = updated_at, as the ORM sets them).
# The conversation's live event (``live.publish``) is written by the same statement.
_MESSAGE_AND_CHAT = """
WITH m AS (
  INSERT INTO messages (workspace_id, chat_id, contact_id, wamid, direction, type, phone,
    phone_number_id, text, payload, response, status, error_code, error_message,
    sent_at, failed_at, token_id, user_id, graph_status, created_at, updated_at)
  VALUES ($1, $2, $3, $4, 'outbound', $5, $6, $7, $8, $9::text::json, $10::text::json, $11,
    $12, $13, $14, $15, $17, $18, $19, $16, $16)
  RETURNING id
), c AS (
  UPDATE chats SET last_message_at = $16, updated_at = $16
  WHERE id = $2 AND workspace_id = $1
), l AS (
  INSERT INTO live_events (workspace_id, kind, chat_id, message_id, created_at)
  SELECT $1, 'message', $2, m.id, $16 FROM m
)"""
# The outbox event with one delivery per endpoint, the sandbox's simulated statuses, and the
# answer stored on the request's Idempotency-Key (docs/api/rate-limits.md), each only when there is
# one.
_EXTRAS = """, e AS (
  INSERT INTO webhook_events (workspace_id, event_id, event, topic, body, created_at,
    message_id)
  SELECT $1, $20::text, $21::text, $21::text, $22::bytea, $16, m.id FROM m
  WHERE $20::text IS NOT NULL
  RETURNING id
), d AS (
  INSERT INTO webhook_deliveries (event_id, endpoint_id, state, attempts, next_attempt_at,
    created_at)
  SELECT e.id, t.endpoint_id, 'pending', 0, $16, $16
  FROM e, unnest($23::int[]) AS t(endpoint_id)
), j AS (
  INSERT INTO jobs (kind, payload, run_at, attempts, max_attempts, created_at)
  SELECT t.kind, t.payload::json, t.run_at, 0, 10, $16
  FROM unnest($24::text[], $25::text[], $26::timestamptz[]) AS t(kind, payload, run_at)
), k AS (
  UPDATE idempotency_keys SET response_status = $28, response_body = $29
  WHERE id = $27::int AND owner = $30::text
)"""
# Most sends have none (no endpoint listens, not the sandbox, no key): the shorter statement
# saves the database the empty inserts.
RECORD_SQL = _MESSAGE_AND_CHAT + "\nSELECT id FROM m"
RECORD_WITH_EXTRAS_SQL = _MESSAGE_AND_CHAT + _EXTRAS + "\nSELECT id FROM m"


def _json(value: dict[str, Any] | None) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


class SendRepository:
    def __init__(self, session: AsyncSession, workspace_id: int) -> None:
        self.session = session
        self.workspace_id = workspace_id

    @property
    def on_driver(self) -> bool:
        """Whether the hot statements run on the driver connection (PostgreSQL)."""
        bind = self.session.bind
        return bind is not None and bind.dialect.name == "postgresql"

    async def recipient(self, phone: str) -> Recipient | None:
        """The contact with this (E.164) number and its chat, in one round trip."""
        async with driver_connection(self.session) as driver:
            if driver is not None:
                row = await driver.fetchrow(RECIPIENT_SQL, self.workspace_id, phone)
        if driver is None:
            stmt = (
                select(
                    Contact.id,
                    Contact.phone,
                    Contact.is_opted_out,
                    Chat.id.label("chat_id"),
                    Chat.last_inbound_at,
                )
                .outerjoin(
                    Chat,
                    (Chat.workspace_id == Contact.workspace_id) & (Chat.contact_id == Contact.id),
                )
                .where(Contact.workspace_id == self.workspace_id, Contact.phone == phone)
            )
            row = (await self.session.execute(stmt)).first()
        if row is None:
            return None
        return Recipient(row[0], row[1], bool(row[2]), row[3], row[4])

    async def record(
        self,
        message: OutboundMessage,
        now: datetime,
        event: OutboxEntry | None,
        jobs: list[QueuedJob],
        answer: StoredAnswer | None = None,
    ) -> None:
        """PostgreSQL (``on_driver``): write the outcome in one statement, committed on its
        own unless the session is in a transaction (then it commits with it); the open
        pages are woken after the commit (``live.publish.committed``)."""
        async with driver_connection(self.session) as driver:
            assert driver is not None, "record needs PostgreSQL (see on_driver)"
            values = [
                self.workspace_id,
                message.chat_id,
                message.contact_id,
                message.wamid,
                message.type,
                message.phone,
                message.phone_number_id,
                message.text,
                _json(message.payload),
                _json(message.response),
                message.status,
                message.error_code,
                message.error_message,
                message.sent_at,
                message.failed_at,
                now,
                message.token_id,
                message.user_id,
                message.graph_status,
            ]
            if event is None and not jobs and answer is None:
                await driver.fetchval(RECORD_SQL, *values)
                committed(self.session, self.workspace_id)
                return
            await driver.fetchval(
                RECORD_WITH_EXTRAS_SQL,
                *values,
                event.event_id if event else None,
                event.name if event else None,
                event.body if event else None,
                event.endpoint_ids if event else [],
                [job.kind for job in jobs],
                [orjson.dumps(job.payload).decode() for job in jobs],
                [job.run_at for job in jobs],
                answer.idempotency_id if answer else None,
                answer.status if answer else None,
                answer.body if answer else None,
                answer.owner if answer else None,
            )
        committed(self.session, self.workspace_id)

    async def touch_chat(self, chat_id: int, now: datetime) -> None:
        stmt = (
            update(Chat)
            .where(Chat.id == chat_id, Chat.workspace_id == self.workspace_id)
            .values(last_message_at=now, updated_at=now)
        )
        await self.session.execute(stmt)
