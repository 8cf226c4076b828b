from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from xobito.kit.db import Base, UTCDateTime
from xobito.kit.time import utcnow
from xobito.models.mixins import WorkspaceOwned


class ContactImport(WorkspaceOwned, Base):
    """A CSV file of contacts uploaded in the dashboard, and how far its import has got.

    States: ``draft`` (uploaded, columns being mapped), ``queued`` and ``running`` (a job
    imports one batch per transaction, each batch's contacts, errors and this row's progress
    committing together), ``done``, ``failed`` (the file as a whole could not be used:
    ``problem`` says why; nothing of it was imported). The file's bytes are kept in
    ``contact_import_chunks`` until the import ends.
    """

    __tablename__ = "contact_imports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    filename: Mapped[str] = mapped_column(String(255), nullable=False)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    # A random name for the worker's local copy of the file.
    token: Mapped[str] = mapped_column(String(64), nullable=False)
    header: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    delimiter: Mapped[str] = mapped_column(String(1), nullable=False, default=",")
    columns: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    defaults: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    state: Mapped[str] = mapped_column(String(16), nullable=False, default="draft")
    rows_total: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rows_done: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    imported: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    failed: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    resume_offset: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    resume_line: Mapped[int | None] = mapped_column(Integer, nullable=True)
    problem: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
