"""Recording changes into the activity log, from one place.

Every state-changing request (and every CLI command) runs inside ``recording()``: its
authentication sets the ``Actor`` (a dashboard user, an API token, the operator's admin key, the
CLI), services describe what they changed with ``note(...)``, and the request boundary
(``api/routing.py`` ``DatabaseRoute``; ``cli/common.run``) writes the notes in the transaction of
the change, just before it commits. A rolled-back change is therefore never logged, and a
committed one always is: when a successful request noted nothing, the boundary writes one
entry naming the route, so no change goes unrecorded.

Outside a recording (tests building data, the worker) ``note`` does nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from xobito.models import ActivityEntry

ACTOR_TYPES = ("user", "token", "admin", "cli")


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting: ``type`` is one of ``ACTOR_TYPES``; ``name`` is what the log shows."""

    type: str
    id: int | None
    name: str
    ip: str | None = None


@dataclass(frozen=True, slots=True)
class Note:
    workspace_id: int | None
    action: str
    summary: str
    subject_type: str | None = None
    subject_id: str | None = None


@dataclass(slots=True)
class ActivityRecorder:
    actor: Actor | None = None
    # The workspace the request acts in, when its authentication knows it (tokens, pages).
    workspace_id: int | None = None
    notes: list[Note] = field(default_factory=list)

    def note(self, note: Note) -> None:
        self.notes.append(note)

    async def flush(self, session: AsyncSession, fallback: Note | None = None) -> int:
        """Write the notes (or ``fallback`` when there are none) as the actor's; returns how
        many entries were written. Nothing is written without an actor."""
        notes = self.notes or ([fallback] if fallback is not None else [])
        actor = self.actor
        if actor is None or not notes:
            return 0
        session.add_all(
            ActivityEntry(
                workspace_id=n.workspace_id,
                actor_type=actor.type,
                actor_id=actor.id,
                actor_name=actor.name[:255],
                action=n.action,
                subject_type=n.subject_type,
                subject_id=n.subject_id,
                summary=n.summary,
                ip=actor.ip,
            )
            for n in notes
        )
        self.notes = []
        await session.flush()
        return len(notes)


_CURRENT: ContextVar[ActivityRecorder | None] = ContextVar("xobito_activity", default=None)


def current() -> ActivityRecorder | None:
    return _CURRENT.get()


@contextmanager
def recording(actor: Actor | None = None) -> Iterator[ActivityRecorder]:
    recorder = ActivityRecorder(actor)
    reset = _CURRENT.set(recorder)
    try:
        yield recorder
    finally:
        _CURRENT.reset(reset)


def act_as(actor: Actor, workspace_id: int | None = None) -> None:
    """Called by authentication: the current recording's changes are ``actor``'s."""
    recorder = _CURRENT.get()
    if recorder is not None:
        recorder.actor = actor
        if workspace_id is not None:
            recorder.workspace_id = workspace_id


def note(
    workspace_id: int | None,
    action: str,
    summary: str,
    subject_type: str | None = None,
    subject_id: int | str | None = None,
) -> None:
    """Describe a change the current request or command is making (no-op outside one)."""
    recorder = _CURRENT.get()
    if recorder is not None:
        recorder.note(
            Note(
                workspace_id,
                action,
                summary,
                subject_type,
                None if subject_id is None else str(subject_id),
            )
        )
