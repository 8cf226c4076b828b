from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from xobito.kit.db import Base
from xobito.models.mixins import Timestamps, WorkspaceOwned


class Template(Timestamps, WorkspaceOwned, Base):
    """A message template as synchronised from Meta (docs/api/templates.md)."""

    __tablename__ = "templates"
    __table_args__ = (UniqueConstraint("workspace_id", "template_name", "language"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    template_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    template_name: Mapped[str] = mapped_column(String(512), nullable=False)
    language: Mapped[str] = mapped_column(String(16), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    category: Mapped[str | None] = mapped_column(String(32), nullable=True)
    header_data_format: Mapped[str | None] = mapped_column(String(16), nullable=True)
    header_data_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    header_params_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    body_data: Mapped[str | None] = mapped_column(Text, nullable=True)
    body_params_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    footer_data: Mapped[str | None] = mapped_column(Text, nullable=True)
    footer_params_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    buttons_data: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    header_file_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    header_variable_value: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    body_variable_value: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    template_type: Mapped[str | None] = mapped_column(String(32), nullable=True)
    cards_json: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    # Meta's ``quality_score.score`` (GREEN, YELLOW, RED, UNKNOWN); not part of the API record.
    quality: Mapped[str | None] = mapped_column(String(16), nullable=True)
