from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from xobito.kit.db import Base, UTCDateTime
from xobito.models.mixins import Timestamps, WorkspaceOwned


class Chat(Timestamps, WorkspaceOwned, Base):
    """The conversation with one contact; ``last_inbound_at`` drives the care window.

    Its inbox state: ``assigned_user_id`` (a dashboard user of the workspace, or none),
    resolved when ``resolved_at`` is set (a new inbound message reopens it), and
    ``unread_count``, the customer's messages since an agent last opened it.
    """

    __tablename__ = "chats"
    __table_args__ = (
        UniqueConstraint("workspace_id", "contact_id"),
        # The inbox lists conversations by latest activity: one index walk per page.
        Index("ix_chats_workspace_id_last_message_at_id", "workspace_id", "last_message_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("contacts.id", ondelete="CASCADE"), nullable=False
    )
    last_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    assigned_user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    unread_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
