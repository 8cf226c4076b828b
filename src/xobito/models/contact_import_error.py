from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from xobito.kit.db import Base


class ContactImportError(Base):
    """One reason a row of an import was not imported (its line, the field or none for the
    row as a whole, the API's message); written with the batch that judged the row."""

    __tablename__ = "contact_import_errors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    import_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("contact_imports.id", ondelete="CASCADE"), nullable=False, index=True
    )
    line: Mapped[int] = mapped_column(Integer, nullable=False)
    field: Mapped[str | None] = mapped_column(String(64), nullable=True)
    message: Mapped[str] = mapped_column(Text, nullable=False)
