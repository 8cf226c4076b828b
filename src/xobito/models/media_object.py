from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from xobito.kit.db import Base, UTCDateTime
from xobito.kit.time import utcnow
from xobito.models.mixins import WorkspaceOwned


class MediaObject(WorkspaceOwned, Base):
    """A media file of a conversation, kept so the browser never talks to Meta: downloaded
    once through Meta's media id with the connection's token (inbound), or the bytes of an
    upload we sent. Served to signed-in members of the workspace only."""

    __tablename__ = "media_objects"
    __table_args__ = (UniqueConstraint("workspace_id", "media_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    media_id: Mapped[str] = mapped_column(String(255), nullable=False)
    mime_type: Mapped[str] = mapped_column(String(255), nullable=False)
    filename: Mapped[str | None] = mapped_column(String(255), nullable=True)
    sha256: Mapped[str | None] = mapped_column(String(128), nullable=True)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    data: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
