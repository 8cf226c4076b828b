from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from xobito.kit.db import Base

TallyId = BigInteger().with_variant(Integer(), "sqlite")


class ContactTally(Base):
    """How many contacts a workspace has, in all (``facet`` ``""``, ``value`` 0) and per
    status (``"s"``), source (``"o"``) and group (``"g"``) id: the exact ``total`` of the
    contact list without counting rows. On PostgreSQL also per block of 1,024 contact ids
    (``"p"``, value ``id / 1024``, migration 0019), where a deep page starts.

    Written only by database triggers on ``contacts`` and ``contact_groups`` (migration
    0014), in the transaction of the change, whatever made it (the API, an import, a send,
    inbound traffic, a cascade). On PostgreSQL a key has several rows, summed when read: each
    writing statement adds one row per key it changed, folding into it the committed rows no
    other transaction holds (``FOR UPDATE SKIP LOCKED``), so concurrent writers never wait for
    each other or deadlock, and the sum seen by any snapshot equals ``count(*)`` in it. SQLite
    (one writer at a time) keeps one row per key.
    """

    __tablename__ = "contact_tallies"
    __table_args__ = (
        Index("ix_contact_tallies_workspace_id_facet_value", "workspace_id", "facet", "value"),
    )

    id: Mapped[int] = mapped_column(TallyId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False
    )
    facet: Mapped[str] = mapped_column(String(1), nullable=False)
    value: Mapped[int] = mapped_column(Integer, nullable=False)
    n: Mapped[int] = mapped_column(BigInteger, nullable=False)
