from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from xobito.kit.db import Base, UTCDateTime
from xobito.models.mixins import Timestamps, WorkspaceOwned


class Campaign(Timestamps, WorkspaceOwned, Base):
    """A template broadcast to an audience, paced per sending number (``campaign/``).

    ``state``: draft, scheduled, running, paused, completed, cancelled, failed. Its recipients
    (``campaign_recipients``) are created when it starts; ``exclusions`` counts, by reason,
    the audience left out before the first send. ``csv_rows``: an uploaded audience, one
    ``[phone, {column: value}]`` per accepted row (phones E.164, or as given when invalid).
    """

    __tablename__ = "campaigns"
    __table_args__ = (
        Index("ix_campaigns_workspace_id_id", "workspace_id", "id"),
        Index("ix_campaigns_state_scheduled_at", "state", "scheduled_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False)
    template_name: Mapped[str] = mapped_column(String(512), nullable=False)
    template_language: Mapped[str] = mapped_column(String(16), nullable=False)
    phone_number_id: Mapped[str] = mapped_column(String(64), nullable=False)
    header: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    variables: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    audience: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    csv_rows: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    csv_report: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    timezone: Mapped[str] = mapped_column(String(64), nullable=False, default="UTC")
    rate_per_second: Mapped[int] = mapped_column(Integer, nullable=False)
    exclusions: Mapped[dict[str, int]] = mapped_column(JSON, nullable=False, default=dict)
    total: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)  # why paused or failed
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    token_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
