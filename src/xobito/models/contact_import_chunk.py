from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from xobito.kit.db import Base


class ContactImportChunk(Base):
    """A piece (up to 1 MiB) of an uploaded CSV file, in order: the file lives in the
    database, so any worker process on any host can import it."""

    __tablename__ = "contact_import_chunks"

    import_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("contact_imports.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
