from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, LargeBinary, Text
from sqlalchemy.orm import Mapped, mapped_column

from xobito.kit.db import Base, UTCDateTime
from xobito.kit.time import utcnow


class InboxEvent(Base):
    """A verified Meta webhook body, stored before the 200 and processed by a worker.

    ``verified_for``: the workspaces the signature verified it for (``inbound.scope``: a
    list of ids, or ``"*"`` for the app-level secret); NULL in rows stored before it was
    recorded. ``notes``: what processing left out of the body and why (a refused message, a
    change outside the scope), for an operator; the rest of the body was applied.
    """

    __tablename__ = "inbox_events"
    __table_args__ = (Index("ix_inbox_events_pending", "processed_at", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    body: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    verified_for: Mapped[Any] = mapped_column(JSON(none_as_null=True), nullable=True)
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
