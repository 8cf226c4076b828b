from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from xobito.kit.db import Base


class PhoneNumber(Base):
    """Which workspace owns a Meta ``phone_number_id``: how inbound webhooks are routed."""

    __tablename__ = "phone_numbers"

    phone_number_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False, index=True
    )
