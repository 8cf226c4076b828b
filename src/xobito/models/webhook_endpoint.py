from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from xobito.kit.db import Base, UTCDateTime
from xobito.models.mixins import Timestamps, WorkspaceOwned


class WebhookEndpoint(Timestamps, WorkspaceOwned, Base):
    """Where a workspace wants its events POSTed. Secrets are shown once, never returned.

    ``kind`` ``xobito``: Xobito's own events (docs/webhooks.md); ``meta``: a Meta webhook forward,
    whose ``events`` are ``meta.<field>`` topics (``webhook.forwarding``).
    """

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(
        String(16), nullable=False, default="xobito", server_default="xobito"
    )
    url: Mapped[str] = mapped_column(String(2048), nullable=False)
    secret: Mapped[str] = mapped_column(String(255), nullable=False)
    # During a rotation's overlap the previous secret still signs (Standard Webhooks header).
    previous_secret: Mapped[str | None] = mapped_column(String(255), nullable=True)
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), nullable=True
    )
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    events: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    disabled_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
