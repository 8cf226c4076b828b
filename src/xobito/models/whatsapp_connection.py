from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from xobito.kit.db import Base, UTCDateTime
from xobito.models.mixins import Timestamps


class WhatsAppConnection(Timestamps, Base):
    """A workspace's link to Meta. ``access_token`` and ``app_secret`` are never returned."""

    __tablename__ = "whatsapp_connections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("workspaces.id", ondelete="CASCADE"), unique=True, nullable=False
    )
    provider: Mapped[str] = mapped_column(String(16), nullable=False)
    waba_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    phone_number_ids: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    primary_phone_number_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    access_token: Mapped[str | None] = mapped_column(Text, nullable=True)
    app_secret: Mapped[str | None] = mapped_column(String(255), nullable=True)
    verify_token: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # The Meta app whose webhooks the WABA should be subscribed to (the doctor checks it).
    app_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    templates_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
