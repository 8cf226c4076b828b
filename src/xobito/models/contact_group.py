from __future__ import annotations

from sqlalchemy import ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from xobito.kit.db import Base


class ContactGroup(Base):
    """Group membership; deleting either side removes the row (spec §5 delete semantics)."""

    __tablename__ = "contact_groups"

    contact_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
    group_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True, index=True
    )
