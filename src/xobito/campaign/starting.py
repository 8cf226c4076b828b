"""Starting a campaign: one recipient row per audience contact, in one transaction.

Every audience contact gets a row: ``pending`` with its variables filled in, or ``excluded``
with the reason (``opted_out``, ``invalid`` number, ``missing_variable``); a CSV's repeated
numbers are counted as ``duplicate`` (one row per contact). The counts are stored before
the first send, each contact gets its conversation (campaign messages appear in it), and
``campaign.started`` is written with them. A start that fails leaves nothing behind and
is tried again; a template that is no longer approved fails the campaign with the reason.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Any

import phonenumbers
from sqlalchemy import insert, literal, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from xobito.campaign import events, variables
from xobito.campaign.repository import CampaignRepository
from xobito.campaign.schemas import campaign_record
from xobito.contact.audience import Audience, audience_select
from xobito.contact.repository import ContactRepository
from xobito.kit.db import UTCDateTime
from xobito.kit.phone import parse as parse_phone
from xobito.models import Campaign, CampaignRecipient, Chat, Contact, Template
from xobito.template.repository import TemplateRepository

BATCH = 1000
TEMPLATE_GONE = "The template {name} ({language}) is no longer approved."

_CHAT_IDS = """
UPDATE campaign_recipients SET chat_id = (
  SELECT ch.id FROM chats AS ch
  WHERE ch.workspace_id = campaign_recipients.workspace_id
    AND ch.contact_id = campaign_recipients.contact_id)
WHERE campaign_id = :campaign AND state = 'pending'
"""


async def _ensure_chats(session: AsyncSession, campaign_id: int, now: datetime) -> None:
    """A conversation for every pending recipient's contact (one statement)."""
    r = CampaignRecipient
    exists_already = (
        select(Chat.id)
        .where(Chat.workspace_id == r.workspace_id, Chat.contact_id == r.contact_id)
        .exists()
    )
    when = literal(now, UTCDateTime())
    rows = (
        select(r.workspace_id, r.contact_id, literal(0), when, when)
        .where(
            r.campaign_id == campaign_id,
            r.state == "pending",
            r.contact_id.is_not(None),
            ~exists_already,
        )
        .distinct()
    )
    dialect = session.get_bind().dialect.name
    insert_into = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert_into(Chat).from_select(
        ["workspace_id", "contact_id", "unread_count", "created_at", "updated_at"], rows
    )
    await session.execute(stmt.on_conflict_do_nothing())


def phone_valid(phone: str) -> bool:
    number = parse_phone(phone)
    return number is not None and phonenumbers.is_valid_number(number)


def _contact_columns(specs: dict[str, Any]) -> list[Any]:
    wanted = variables.contact_fields(specs) - {"phone"}
    return [Contact.id, Contact.phone, Contact.is_opted_out] + [
        getattr(Contact, f) for f in sorted(wanted)
    ]


async def _audience_contacts(
    session: AsyncSession, campaign: Campaign
) -> AsyncGenerator[list[tuple[dict[str, Any], dict[str, Any] | None]], None]:
    """Batches of (contact fields, CSV row values) of the campaign's audience."""
    columns = _contact_columns(campaign.variables)
    if campaign.csv_rows is None:
        audience = Audience.of(campaign.audience)
        after = 0
        while True:
            stmt = audience_select(
                campaign.workspace_id,
                audience,
                after_id=after,
                limit=BATCH,
                include_opted_out=True,
                columns=columns,
            )
            rows = [dict(r._mapping) for r in await session.execute(stmt)]
            if not rows:
                return
            yield [(r, None) for r in rows]
            after = rows[-1]["id"]
        return
    contacts = ContactRepository(session, campaign.workspace_id)
    rows = campaign.csv_rows
    for i in range(0, len(rows), BATCH):
        chunk = rows[i : i + BATCH]
        found = await contacts.by_phones({phone for phone, _ in chunk})
        out: list[tuple[dict[str, Any], dict[str, Any] | None]] = []
        for phone, values in chunk:
            contact = found.get(phone)
            if contact is None:
                out.append(({"id": None, "phone": phone, "is_opted_out": False}, values))
            else:
                fields = {c.key: getattr(contact, c.key) for c in columns}
                out.append((fields, values or {}))
        yield out


async def start(session: AsyncSession, campaign: Campaign, now: datetime) -> bool:
    """Create the recipients and set the campaign running (False: it failed instead)."""
    template = await TemplateRepository(session, campaign.workspace_id).by_name(
        campaign.template_name, campaign.template_language
    )
    if template is None or template.status != "APPROVED":
        campaign.state = "failed"
        campaign.reason = TEMPLATE_GONE.format(
            name=campaign.template_name, language=campaign.template_language
        )
        campaign.completed_at = now
        return False
    exclusions: Counter[str] = Counter()
    seen: set[int] = set()
    async for batch in _audience_contacts(session, campaign):
        rows = []
        for contact, values in batch:
            row = _recipient(campaign, template, contact, values, now, exclusions, seen)
            if row is not None:
                rows.append(row)
        if rows:
            await session.execute(insert(CampaignRecipient), rows)
    await _ensure_chats(session, campaign.id, now)
    await session.execute(text(_CHAT_IDS), {"campaign": campaign.id})
    campaign.state = "running"
    campaign.started_at = now
    campaign.exclusions = dict(exclusions)
    await session.flush()
    record = campaign_record(campaign, (await CampaignRepository(
        session, campaign.workspace_id).counts([campaign]))[campaign.id])
    campaign.total = record["counts"]["total"]
    await events.emit_state(session, campaign, "campaign.started", record)
    return True


def _recipient(
    campaign: Campaign,
    template: Template,
    contact: dict[str, Any],
    csv_values: dict[str, Any] | None,
    now: datetime,
    exclusions: Counter[str],
    seen: set[int],
) -> dict[str, Any] | None:
    contact_id = contact["id"]
    if contact_id is not None:
        if contact_id in seen:
            exclusions["duplicate"] += 1
            return None
        seen.add(contact_id)
    row: dict[str, Any] = {
        "workspace_id": campaign.workspace_id,
        "campaign_id": campaign.id,
        "contact_id": contact_id,
        "phone": str(contact["phone"])[:64],
        "next_attempt_at": now,
        "created_at": now,
        "updated_at": now,
        "attempts": 0,
        "pair_attempts": 0,
        "retryable": False,
    }
    reason = None
    values = None
    if contact_id is None or not phone_valid(row["phone"]):
        reason = "invalid"
    elif contact["is_opted_out"]:
        reason = "opted_out"
    else:
        values = variables.resolve(campaign.variables, contact, csv_values)
        if values is None:
            reason = "missing_variable"
    if reason is not None:
        exclusions[reason] += 1
        row.update(state="excluded", error_message=reason, values=None)
    else:
        row.update(state="pending", values=values)
    return row
