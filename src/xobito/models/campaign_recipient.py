from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from xobito.kit.db import Base, UTCDateTime
from xobito.models.mixins import Timestamps, WorkspaceOwned


class CampaignRecipient(Timestamps, WorkspaceOwned, Base):
    """One contact of a campaign, created when the campaign starts, sent at most once.

    ``state``: pending → claimed (a worker holds it, not yet sent) → sending (the Graph call
    is under way) → sent → delivered → read; or failed, excluded, cancelled. ``worker_id``:
    the worker holding a claimed or sending row (``campaign_workers``). ``retryable``: a
    failure "Retry failed" resends. ``attempts``: Graph calls made (each answered with a
    refusal, so none delivered anything).
    """

    __tablename__ = "campaign_recipients"
    __table_args__ = (
        UniqueConstraint("campaign_id", "contact_id"),
        Index("ix_campaign_recipients_due", "campaign_id", "state", "next_attempt_at", "id"),
        Index("ix_campaign_recipients_campaign_id_id", "campaign_id", "id"),
        Index("ix_campaign_recipients_message_id", "message_id"),
        Index("ix_campaign_recipients_workspace_id_contact_id", "workspace_id", "contact_id"),
        Index("ix_campaign_recipients_worker_id", "worker_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False
    )
    contact_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("contacts.id", ondelete="SET NULL"), nullable=True
    )
    chat_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    phone: Mapped[str] = mapped_column(String(64), nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False)
    values: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)  # CSV columns
    worker_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    pair_attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    wamid: Mapped[str | None] = mapped_column(String(255), nullable=True)
    message_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    retryable: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
