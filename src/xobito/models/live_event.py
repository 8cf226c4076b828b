from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from xobito.kit.db import Base, UTCDateTime
from xobito.kit.time import utcnow

# 64-bit on PostgreSQL (a busy installation passes 2^31 events); SQLite's INTEGER PRIMARY KEY
# is 64-bit already and must be spelled INTEGER to be the rowid.
EventId = BigInteger().with_variant(Integer(), "sqlite")


class LiveEvent(Base):
    """A change the open dashboard pages of a workspace are told about (``xobito.live``).

    ``id`` comes from one sequence for all workspaces, taken when the row is inserted just
    before its transaction commits; concurrent writers may still commit ids out of order,
    which the reader (``live.feed``) detects as a gap and waits for. ``kind`` is the SSE
    event name (``message``, ``status``, ``conversation``, ``assignment``, ``note``,
    ``campaign``, ``import``); ``data`` is small JSON.
    """

    __tablename__ = "live_events"
    __table_args__ = (Index("ix_live_events_workspace_id_id", "workspace_id", "id"),)

    id: Mapped[int] = mapped_column(EventId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False
    )
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    chat_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    message_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, nullable=False, index=True
    )
