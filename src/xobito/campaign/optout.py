"""Opt-out by message: a contact who writes a stop keyword (``STOP``, ``UNSUBSCRIBE``, or the
workspace's own) is opted out and gets the workspace's confirmation; a start keyword
(``START``) opts them back in. Keywords match the whole message, ignoring case, accents,
surrounding spaces and punctuation ("Stop!", " stóp " and "STOP" are one keyword)."""

from __future__ import annotations

import unicodedata
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from xobito.contact.repository import ContactRepository
from xobito.contact.schemas import contact_record
from xobito.jobs.repository import JobRepository
from xobito.kit.time import utcnow
from xobito.models import Contact, Message, OptOutSetting
from xobito.webhook.events import emit_crud

DEFAULT_STOP = ("STOP", "UNSUBSCRIBE")
DEFAULT_START = ("START",)
STOP_REPLY = (
    "You have been unsubscribed and will receive no more messages. Reply START to resubscribe."
)
REPLY_JOB = "campaign.opt_out_reply"
_KEEP = {"L", "N"}  # letters and digits: spaces and punctuation around a keyword are dropped


def normalise_keyword(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(ch for ch in decomposed if unicodedata.category(ch)[0] in _KEEP or ch == " ")
    return " ".join(kept.casefold().split())


async def settings_of(session: AsyncSession, workspace_id: int) -> OptOutSetting | None:
    return await session.get(OptOutSetting, workspace_id)


async def on_inbound(
    session: AsyncSession,
    contact: Contact,
    message: Message,
    known: dict[int, OptOutSetting | None] | None = None,
) -> str | None:
    """Apply a stop or start keyword of an inbound message; returns what changed.
    ``known``: the workspaces' settings looked up already (an inbox batch's), filled in."""
    text = message.text
    if not text or len(text) > 64 or message.type not in ("text", "button", "interactive"):
        return None
    ws = contact.workspace_id
    if known is not None and ws in known:
        setting = known[ws]
    else:
        setting = await settings_of(session, ws)  # no row: a query each time, hence ``known``
        if known is not None:
            known[ws] = setting
    if setting is not None and not setting.enabled:
        return None
    stops = setting.stop_keywords if setting is not None else DEFAULT_STOP
    starts = setting.start_keywords if setting is not None else DEFAULT_START
    word = normalise_keyword(text)
    if not word:
        return None
    reply: str | None
    if word in {normalise_keyword(w) for w in stops}:
        if contact.is_opted_out:
            return None
        change, reply = "opted_out", (setting.stop_reply if setting else STOP_REPLY)
        original = await _record(session, contact)
        contact.is_opted_out = True
        contact.opted_out_at = utcnow()
    elif word in {normalise_keyword(w) for w in starts}:
        if not contact.is_opted_out:
            return None
        change, reply = "opted_in", (setting.start_reply if setting else None)
        original = await _record(session, contact)
        contact.is_opted_out = False
        contact.opted_out_at = None
    else:
        return None
    contact.updated_at = utcnow()
    await session.flush()
    await emit_crud(
        session,
        contact.workspace_id,
        "contacts",
        "updated",
        await _record(session, contact),
        original,
    )
    if reply:
        JobRepository(session).enqueue(
            REPLY_JOB,
            {
                "workspace_id": contact.workspace_id,
                "contact_id": contact.id,
                "chat_id": message.chat_id,
                "phone_number_id": message.phone_number_id,
                "text": reply,
            },
            max_attempts=3,
        )
    return change


async def _record(session: AsyncSession, contact: Contact) -> dict[str, Any]:
    groups = await ContactRepository(session, contact.workspace_id).groups_of([contact.id])
    return contact_record(contact, groups.get(contact.id, []))
