from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from xobito.kit.db import Base, UTCDateTime
from xobito.models.mixins import Timestamps, WorkspaceOwned


class Message(Timestamps, WorkspaceOwned, Base):
    """One WhatsApp message, outbound or inbound, identified by Meta's ``wamid``; or an
    internal note of the inbox (``direction`` ``note``: never sent, no wamid).

    Who made an outbound message: ``token_id`` (an API token) or ``user_id`` (a dashboard
    user; also a note's author); a campaign's messages are found through its recipients.
    ``graph_status`` is the HTTP status of Meta's answer to the send.
    """

    __tablename__ = "messages"
    __table_args__ = (
        Index("uq_messages_wamid", "wamid", unique=True),
        # A conversation's messages newest first (and its latest one) by one index range.
        Index("ix_messages_workspace_id_chat_id_id", "workspace_id", "chat_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("chats.id", ondelete="SET NULL"), nullable=True
    )
    contact_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("contacts.id", ondelete="SET NULL"), nullable=True
    )
    # Null only for a send Meta refused: the failed attempt is kept without an id.
    wamid: Mapped[str | None] = mapped_column(String(255), nullable=True)
    direction: Mapped[str] = mapped_column(String(8), nullable=False)  # outbound | inbound
    type: Mapped[str] = mapped_column(String(32), nullable=False)
    phone: Mapped[str] = mapped_column(String(20), nullable=False)
    phone_number_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    text: Mapped[str | None] = mapped_column(Text, nullable=True)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    error_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    context_message_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    token_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    graph_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
