from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from xobito.kit.db import Base, UTCDateTime
from xobito.kit.time import utcnow


class WebhookEvent(Base):
    """The outbox: one event, written in the transaction of the change that caused it.

    ``body`` is the exact bytes every delivery sends, so signatures and ``X-Webhook-Id`` are
    stable across retries.
    """

    __tablename__ = "webhook_events"
    __table_args__ = (Index("ix_webhook_events_message_id", "message_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False, index=True
    )
    event_id: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    event: Mapped[str] = mapped_column(String(64), nullable=False)
    topic: Mapped[str] = mapped_column(String(64), nullable=False)
    body: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    # The message a ``message.*`` event is about (its timeline lists the deliveries).
    message_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
