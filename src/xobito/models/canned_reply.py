from __future__ import annotations

from sqlalchemy import Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from xobito.kit.db import Base
from xobito.models.mixins import Timestamps, WorkspaceOwned


class CannedReply(Timestamps, WorkspaceOwned, Base):
    """A saved answer of a workspace, inserted in the inbox composer by typing ``/shortcut``."""

    __tablename__ = "canned_replies"
    __table_args__ = (UniqueConstraint("workspace_id", "shortcut"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shortcut: Mapped[str] = mapped_column(String(64), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
