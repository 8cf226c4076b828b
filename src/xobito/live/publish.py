"""``publish()``: the one call a producer makes, in the transaction of its change.

    from xobito.live.publish import publish
    publish(session, workspace_id, "campaign", data={"campaign_id": 7, "sent": 120})

The event is written when the session commits (a ``before_commit`` hook, after the session's
last flush: its id is taken as late as possible, so concurrent writers seldom commit ids out
of order, and when they do the reader waits for the gap, ``live.feed``), and the streams of
every process are woken after the commit (``after_commit``). A rolled-back transaction
writes and wakes nothing. No lock is taken: writers of one workspace never wait on each
other for their events.

Code that writes without a session transaction (the send hot path's single statement) writes
its event in that statement and calls ``committed(session, workspace_id)`` after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import event, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from xobito.kit.time import utcnow
from xobito.live.bus import BUS
from xobito.models import LiveEvent

PENDING = "xobito.live.pending"
WRITTEN = "xobito.live.written"
KINDS = ("message", "status", "conversation", "assignment", "note", "campaign", "import")


class HasId(Protocol):
    @property
    def id(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Pending:
    kind: str
    chat_id: int | None
    message: int | HasId | None  # a row added in this transaction has its id at the flush
    data: dict[str, Any] | None

    @property
    def message_id(self) -> int | None:
        m = self.message
        return m if m is None or isinstance(m, int) else m.id


def publish(
    session: AsyncSession | Session,
    workspace_id: int,
    kind: str,
    *,
    chat_id: int | None = None,
    message_id: int | HasId | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """Queue a live event of ``workspace_id``, written and announced when ``session``
    commits. ``kind`` is the SSE event name (``KINDS``); ``data`` is small JSON (counters,
    ids), never personal data the stream's renderer could not re-read from the database.
    ``message_id`` may be a model added in this transaction (its id is read at the flush)."""
    if kind not in KINDS:
        raise ValueError(f"unknown live event kind {kind!r}")
    sync = session.sync_session if isinstance(session, AsyncSession) else session
    if sync.get_transaction() is None:
        sync.begin()  # no I/O; so that a rollback or close ends it (and drops the event)
    pending: dict[int, list[Pending]] = sync.info.setdefault(PENDING, {})
    pending.setdefault(workspace_id, []).append(Pending(kind, chat_id, message_id, data))


def committed(session: AsyncSession, workspace_id: int) -> None:
    """An event was written outside the session's transaction machinery (the send hot
    path's statement): wake the streams now if it committed, else after the commit."""
    if session.in_transaction():
        session.sync_session.info.setdefault(WRITTEN, set()).add(workspace_id)
    else:
        BUS.wake({workspace_id})


@event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    pending: dict[int, list[Pending]] | None = session.info.pop(PENDING, None)
    if not pending:
        return
    session.flush()  # the session's own changes first: messages get their ids
    now = utcnow()
    rows = [
        {
            "workspace_id": workspace_id,
            "kind": e.kind,
            "chat_id": e.chat_id,
            "message_id": e.message_id,
            "data": e.data,
            "created_at": now,
        }
        for workspace_id, events in pending.items()
        for e in events
    ]
    session.execute(insert(LiveEvent), rows)
    session.info.setdefault(WRITTEN, set()).update(pending)


@event.listens_for(Session, "after_commit")
def _wake(session: Session) -> None:
    written: set[int] | None = session.info.pop(WRITTEN, None)
    if written:
        BUS.wake(written)


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: SessionTransaction) -> None:
    """The outermost transaction ended without committing (rolled back, closed): its queued
    events are dropped with it (after a commit both are already taken)."""
    if transaction.parent is None:
        session.info.pop(PENDING, None)
        session.info.pop(WRITTEN, None)
