from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from xobito.kit.db import Base, UTCDateTime
from xobito.models.mixins import Timestamps, WorkspaceOwned


class Contact(Timestamps, WorkspaceOwned, Base):
    __tablename__ = "contacts"
    __table_args__ = (
        UniqueConstraint("workspace_id", "phone"),
        # Emails are unique regardless of case (migration 0012).
        Index(
            "uq_contacts_workspace_id_lower_email",
            "workspace_id",
            text("lower(email)"),
            unique=True,
        ),
        Index("ix_contacts_workspace_id_id", "workspace_id", "id"),
        # Migration 0015: filters in id order and the dashboard's order by name; plus, not
        # declared here, the search table ``contacts_search`` kept by triggers (PostgreSQL:
        # a plain table with GIN trigrams, migration 0018; SQLite: FTS5, migration 0015).
        Index("ix_contacts_status_id_id", "status_id", "id"),
        Index("ix_contacts_source_id_id", "source_id", "id"),
        Index(
            "ix_contacts_workspace_id_name",
            "workspace_id",
            text("lower(firstname)"),
            text("lower(lastname)"),
            "id",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    firstname: Mapped[str] = mapped_column(String(255), nullable=False)
    lastname: Mapped[str | None] = mapped_column(String(255), nullable=True)
    company: Mapped[str | None] = mapped_column(String(255), nullable=True)
    type: Mapped[str] = mapped_column(String(16), nullable=False)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    country_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    zip: Mapped[str | None] = mapped_column(String(255), nullable=True)
    city: Mapped[str | None] = mapped_column(String(255), nullable=True)
    state: Mapped[str | None] = mapped_column(String(255), nullable=True)
    address: Mapped[str | None] = mapped_column(Text, nullable=True)
    website: Mapped[str | None] = mapped_column(String(255), nullable=True)
    email: Mapped[str | None] = mapped_column(String(191), nullable=True)
    phone: Mapped[str] = mapped_column(String(20), nullable=False)
    source_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("sources.id", ondelete="SET NULL"), nullable=True
    )
    status_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("statuses.id", ondelete="SET NULL"), nullable=True
    )
    assigned_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    is_enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    is_opted_out: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
