from __future__ import annotations

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from xobito.kit.db import Base
from xobito.models.mixins import Timestamps


class Workspace(Timestamps, Base):
    __tablename__ = "workspaces"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subdomain: Mapped[str] = mapped_column(String(63), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    max_contacts: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rate_limit_max: Mapped[int] = mapped_column(Integer, nullable=False, default=60)
    rate_limit_decay: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    enforce_care_window: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    # Opening a conversation in the inbox tells Meta its messages were read (blue ticks).
    send_read_receipts: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    whatsapp_provider: Mapped[str] = mapped_column(String(16), nullable=False, default="sandbox")
