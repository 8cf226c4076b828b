from __future__ import annotations

from sqlalchemy import Boolean, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from xobito.kit.db import Base
from xobito.models.mixins import Timestamps, WorkspaceOwned


class Status(Timestamps, WorkspaceOwned, Base):
    __tablename__ = "statuses"
    __table_args__ = (
        UniqueConstraint("workspace_id", "name"),
        # At most one default per workspace, whatever writes the table (migration 0009).
        Index(
            "uq_statuses_workspace_id_default",
            "workspace_id",
            unique=True,
            sqlite_where=text("isdefault"),
            postgresql_where=text("isdefault"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    color: Mapped[str | None] = mapped_column(String(7), nullable=True)
    isdefault: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
