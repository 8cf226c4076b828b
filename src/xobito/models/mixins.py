"""Columns most tables share."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from xobito.kit.db import UTCDateTime
from xobito.kit.time import utcnow


def _same_as_created(context: Any) -> datetime:
    """A new row's ``updated_at`` equals its ``created_at``, as Laravel sets both at once."""
    created = context.get_current_parameters().get("created_at")
    return created if isinstance(created, datetime) else utcnow()


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=_same_as_created, onupdate=utcnow, nullable=False
    )


class WorkspaceOwned:
    """Tenant-owned rows: ``workspace_id`` is the API's ``tenant_id``."""

    @declared_attr
    def workspace_id(cls) -> Mapped[int]:
        return mapped_column(
            Integer, ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False, index=True
        )
