from __future__ import annotations

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from xobito.kit.db import Base
from xobito.models.mixins import Timestamps


class OptOutSetting(Timestamps, Base):
    """A workspace's opt-out keywords and confirmations (defaults apply without a row)."""

    __tablename__ = "opt_out_settings"

    workspace_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    stop_keywords: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    start_keywords: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    stop_reply: Mapped[str | None] = mapped_column(Text, nullable=True)
    start_reply: Mapped[str | None] = mapped_column(Text, nullable=True)
