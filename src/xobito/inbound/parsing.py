"""What we keep of each inbound message type (docs/webhooks.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from xobito.kit.phone import to_e164
from xobito.kit.time import utcnow

MEDIA_TYPES = ("image", "video", "audio", "document", "sticker")
MAX_WAMID = 255  # messages.wamid
MAX_TYPE = 32  # messages.type
# Meta's ``from`` is the sender's number in digits: a country code (never 0) and at most 15
# digits in all (E.164); 7 is the shortest number anywhere with its country code.
WA_ID = re.compile(r"\+?[1-9][0-9]{6,14}", re.ASCII)
NOT_A_PHONE = "the sender is not a phone number"
NO_ID = f"its id is missing or longer than {MAX_WAMID} characters"


@dataclass
class Inbound:
    wamid: str
    wa_id: str
    phone: str  # the sender's, E.164
    type: str
    text: str | None
    button_reply: dict[str, Any] | None
    media: dict[str, Any] | None
    context_message_id: str | None
    received_at: datetime
    raw: dict[str, Any] | None = None  # Meta's message object, as received (the timeline's)


def timestamp(value: Any) -> datetime:
    """Meta sends unix seconds as a string; anything unusable means "now"."""
    try:
        return datetime.fromtimestamp(int(str(value)), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return utcnow()


def _text(kind: str, m: dict[str, Any]) -> tuple[str | None, dict[str, Any] | None]:
    found = m.get(kind)
    body: dict[str, Any] = found if isinstance(found, dict) else {}
    if kind == "text":
        return body.get("body"), None
    if kind == "interactive":
        for sub in ("button_reply", "list_reply"):
            reply = body.get(sub)
            if isinstance(reply, dict):
                return reply.get("title"), {"id": reply.get("id"), "title": reply.get("title")}
        return None, None
    if kind == "button":  # a template's quick-reply button
        return body.get("text"), {"id": body.get("payload"), "title": body.get("text")}
    if kind == "location":
        parts = [str(body.get(k)) for k in ("latitude", "longitude") if body.get(k) is not None]
        label = ", ".join(str(body[k]) for k in ("name", "address") if body.get(k))
        return " ".join(filter(None, [",".join(parts), label])) or None, None
    if kind == "reaction":
        return body.get("emoji"), None
    if kind == "contacts":
        listed = m.get("contacts")
        people: list[Any] = listed if isinstance(listed, list) else []
        names = [
            str((p.get("name") or {}).get("formatted_name", ""))
            for p in people
            if isinstance(p, dict)
        ]
        return ", ".join(n for n in names if n) or None, None
    if kind in MEDIA_TYPES:
        return body.get("caption"), None
    return None, None


def _context_id(context: dict[str, Any]) -> str | None:
    found = context.get("id") or context.get("message_id")
    return found[:255] if isinstance(found, str) else None


@dataclass
class Refused:
    """A message that cannot be stored, and why (kept in its inbox row's notes)."""

    wamid: str | None
    reason: str

    def note(self) -> str:
        if self.wamid is None:
            return f"a message refused: {self.reason}"
        return f"message {self.wamid} refused: {self.reason}"


def sender_phone(wa_id: Any) -> str | None:
    """The E.164 number of a sender's ``from``, or None when it cannot be a phone number."""
    if not isinstance(wa_id, str) or len(wa_id) > 16 or not WA_ID.fullmatch(wa_id):
        return None
    digits = wa_id.removeprefix("+")
    # libphonenumber may not know a new range yet: the digits are still the number.
    return to_e164(digits) or "+" + digits


def parse_message(m: dict[str, Any]) -> Inbound | Refused:
    wamid, wa_id = m.get("id"), m.get("from")
    if not isinstance(wamid, str) or not 0 < len(wamid) <= MAX_WAMID:
        return Refused(None, NO_ID)
    phone = sender_phone(wa_id)
    if phone is None or not isinstance(wa_id, str):
        return Refused(wamid, NOT_A_PHONE)
    kind = str(m.get("type") or "unknown")
    if len(kind) > MAX_TYPE:
        kind = "unknown"
    text, reply = _text(kind, m)
    media = None
    if kind in MEDIA_TYPES and isinstance(m.get(kind), dict):
        obj = m[kind]
        media = {
            "id": obj.get("id"),
            "mime_type": obj.get("mime_type"),
            "caption": obj.get("caption"),
            "filename": obj.get("filename"),
        }
    found = m.get("context")
    context: dict[str, Any] = found if isinstance(found, dict) else {}
    if kind == "reaction" and isinstance(m.get("reaction"), dict):
        context = {"id": m["reaction"].get("message_id")}  # the message reacted to
    return Inbound(
        wamid=wamid,
        wa_id=wa_id,
        phone=phone,
        type=kind,
        text=text,
        button_reply=reply,
        media=media,
        context_message_id=_context_id(context),
        received_at=timestamp(m.get("timestamp")),
        raw=m,
    )


def profile_names(value: dict[str, Any]) -> dict[str, str]:
    """``wa_id`` → profile name from ``value.contacts[]`` (``user_id`` and others ignored)."""
    out: dict[str, str] = {}
    for c in value.get("contacts") or []:
        if isinstance(c, dict) and isinstance(c.get("wa_id"), str):
            profile = c.get("profile")
            name = profile.get("name") if isinstance(profile, dict) else None
            if name:
                out[c["wa_id"]] = str(name)
    return out
