from __future__ import annotations

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from xobito.kit.db import Base
from xobito.models.mixins import Timestamps, WorkspaceOwned


class SendingNumber(Timestamps, WorkspaceOwned, Base):
    """Campaign pacing of one of the workspace's phone numbers: the messages per second its
    campaigns send together (Meta's 80 by default, up to 1,000; 20 for a coexistence
    number, one shared with the WhatsApp Business app)."""

    __tablename__ = "sending_numbers"

    phone_number_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    rate_per_second: Mapped[int] = mapped_column(Integer, nullable=False)
    coexistence: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
