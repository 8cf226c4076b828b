"""Columns most tables share."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from xobito.kit.db import UTCDateTime
from xobito.kit.time import utcnow


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False
    )


class WorkspaceOwned:
    """Tenant-owned rows: ``workspace_id`` is the API's ``tenant_id``."""

    @declared_attr
    def workspace_id(cls) -> Mapped[int]:
        return mapped_column(
            Integer, ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False, index=True
        )
