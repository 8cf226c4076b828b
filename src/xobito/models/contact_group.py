from __future__ import annotations

from sqlalchemy import ForeignKey, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column

from xobito.kit.db import Base


class ContactGroup(Base):
    """Group membership; deleting either side removes the row (docs/api/contacts.md delete
    semantics)."""

    __tablename__ = "contact_groups"
    __table_args__ = (Index("ix_contact_groups_group_id_contact_id", "group_id", "contact_id"),)

    contact_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
    group_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
