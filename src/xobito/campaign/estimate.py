"""What a campaign would reach, before it is created: its audience counted with the
exclusions the start will make (the same rules: ``starting``'s recipient rows, built and
thrown away), and a sample recipient with the values their message would carry."""

from __future__ import annotations

from collections import Counter
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from xobito.campaign.schemas import EXCLUSION_REASONS
from xobito.campaign.starting import _audience_contacts, _recipient
from xobito.kit.time import utcnow
from xobito.models import Campaign, Template

# The summary is recomputed as the form changes: past this many contacts it stops and says
# "at least" (a million-contact audience would take minutes each time); the start counts all.
MAX_COUNTED = 5000


@dataclass
class Estimate:
    total: int = 0  # audience contacts (duplicates counted once)
    partial: bool = False  # stopped at ``MAX_COUNTED``: the figures are lower bounds
    exclusions: dict[str, int] = field(default_factory=dict)
    sample: dict[str, Any] | None = None  # the first contact who would be sent to
    sample_values: dict[str, str] | None = None

    @property
    def excluded(self) -> int:
        return sum(self.exclusions.values())

    @property
    def sendable(self) -> int:
        return self.total - self.excluded


async def estimate(
    session: AsyncSession,
    workspace_id: int,
    template: Template,
    audience: dict[str, Any],
    specs: dict[str, Any],
    limit: int | None = None,
) -> Estimate:
    """The audience as a campaign start would see it now (read only), up to ``limit``
    contacts."""
    probe = Campaign(
        id=0, workspace_id=workspace_id, audience=audience, variables=specs, csv_rows=None
    )
    limit = MAX_COUNTED if limit is None else limit
    counted: Counter[str] = Counter()
    seen: set[int] = set()
    out = Estimate()
    now = utcnow()
    async with aclosing(_audience_contacts(session, probe)) as batches:
        async for batch in batches:
            for contact, values in batch:
                if len(seen) >= limit:
                    out.partial = True
                    break
                row = _recipient(probe, template, contact, values, now, counted, seen)
                if row is None:
                    continue
                out.total += 1
                if row["state"] == "pending" and out.sample is None:
                    out.sample, out.sample_values = contact, row["values"]
            if out.partial:
                break
    out.exclusions = {k: counted.get(k, 0) for k in EXCLUSION_REASONS if k != "duplicate"}
    return out
