from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from xobito.kit.db import Base, UTCDateTime


class WebhookTraffic(Base):
    """Meta webhooks per workspace and hour: how many were accepted and how many failed the
    signature check (``inbound.traffic``). Counts only: a rejected body is never stored."""

    __tablename__ = "webhook_traffic"
    __table_args__ = (UniqueConstraint("workspace_id", "hour"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False
    )
    hour: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)  # its first instant
    accepted: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    rejected: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_rejected_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
