"""What the inbox's templates need besides the conversation: the care window in words, the
approved templates with their variables pre-filled from the contact, the contact panel."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from xobito.chat.schemas import care_window_ends
from xobito.chat.service import Conversation, replied_to
from xobito.contact.service import ContactService
from xobito.kit.time import utcnow
from xobito.models import Contact, Template
from xobito.template.schemas import dynamic_buttons
from xobito.web.contacts import labels
from xobito.web.deps import Member
from xobito.web.render import templates

VARIABLE = re.compile(r"\{\{\s*(\d+)\s*\}\}")
CLOSED = (
    "The 24-hour customer care window is closed: the customer has not written in the last "
    "24 hours. Only an approved template can be sent."
)
NEVER = "The customer has never written: only an approved template can be sent until they answer."


@dataclass(frozen=True, slots=True)
class Window:
    open: bool
    ends_at: datetime | None
    text: str  # the time left, or why it is closed


def window_left(c: Conversation, enforced: bool = True) -> Window:
    ends = care_window_ends(c.chat)
    now = utcnow()
    if ends is not None and ends > now:
        minutes = int((ends - now).total_seconds() // 60)
        hours, mins = divmod(minutes, 60)
        left = f"{hours} h {mins} min" if hours else f"{mins} min"
        return Window(True, ends, f"Customer care window open: {left} left")
    if not enforced:
        return Window(True, ends, "The care window is not enforced here: Meta decides.")
    return Window(False, ends, CLOSED if ends is not None else NEVER)


@dataclass(slots=True)
class TemplateChoice:
    key: str
    name: str
    language: str
    header: str | None
    body: str
    footer: str | None
    header_count: int
    body_count: int
    prefill: dict[str, str] = field(default_factory=dict)
    examples: dict[str, str] = field(default_factory=dict)
    # URL buttons with a variable: (index, the button's text, its URL); the value is required.
    url_buttons: list[tuple[int, str, str]] = field(default_factory=list)

    def render(self, values: dict[str, str]) -> dict[str, str | None]:
        def fill(text: str | None, prefix: str) -> str | None:
            if text is None:
                return None
            return VARIABLE.sub(
                lambda m: values.get(f"{prefix}{m.group(1)}") or f"{{{{{m.group(1)}}}}}", text
            )

        return {
            "header": fill(self.header, "header_field_"),
            "body": fill(self.body, "field_"),
            "footer": self.footer,
        }


def prefill_for(contact: Contact, count: int) -> list[str]:
    """Variables in order from the contact: {{1}} the first name, {{2}} the last name, then
    the company; the agent edits the rest."""
    known = [contact.firstname or "", contact.lastname or "", getattr(contact, "company", "") or ""]
    return [known[i] if i < len(known) else "" for i in range(count)]


async def template_choices(
    session: AsyncSession, workspace_id: int, contact: Contact
) -> list[TemplateChoice]:
    stmt = (
        select(Template)
        .where(Template.workspace_id == workspace_id, Template.status == "APPROVED")
        .order_by(Template.template_name, Template.language)
        .limit(200)
    )
    found: list[TemplateChoice] = []
    for t in (await session.execute(stmt)).scalars().all():
        if t.template_type == "carousel" or t.header_data_format in ("IMAGE", "VIDEO", "DOCUMENT"):
            continue  # needs media the inbox does not pick (the API sends those)
        body_values = prefill_for(contact, t.body_params_count)
        prefill = {f"field_{n}": v for n, v in enumerate(body_values, start=1)}
        if t.header_params_count:
            prefill["header_field_1"] = contact.firstname or ""
        buttons = t.buttons_data or []
        examples = {
            f"field_{n}": str(v) for n, v in enumerate(t.body_variable_value or [], start=1)
        }
        found.append(
            TemplateChoice(
                key=f"{t.template_name}|{t.language}",
                name=t.template_name,
                language=t.language,
                header=t.header_data_text if t.header_data_format == "TEXT" else None,
                body=t.body_data or "",
                footer=t.footer_data,
                header_count=t.header_params_count,
                body_count=t.body_params_count,
                prefill=prefill,
                examples=examples,
                url_buttons=[
                    (i, str(buttons[i].get("text") or ""), str(buttons[i].get("url") or ""))
                    for i, kind in dynamic_buttons(t)
                    if kind == "url"
                ],
            )
        )
    return found


async def contact_details(member: Member, contact: Contact) -> dict[str, Any]:
    """The side panel's facts: the contact's record with its labels' names."""
    record = await ContactService(member.session, member.info).get(contact.id)
    lbls = await labels(member)
    status = lbls.statuses.get(record["status_id"]) if record["status_id"] else None
    source = lbls.sources.get(record["source_id"]) if record["source_id"] else None
    return {
        "record": record,
        "status": status.name if status else None,
        "source": source.name if source else None,
        "groups": [lbls.groups[g].name for g in record["group_id"] if g in lbls.groups],
    }


URL = re.compile(r"https?://[^\s<>\"']+")


def linkify(text: str | None) -> Markup:
    """Text with its http(s) links clickable; everything else escaped."""
    if not text:
        return Markup("")
    out: list[str] = []
    last = 0
    for found in URL.finditer(text):
        url = found.group(0).rstrip(".,;:!?)")
        out.append(str(escape(text[last : found.start()])))
        out.append(
            f'<a href="{escape(url)}" rel="noopener noreferrer nofollow" target="_blank">'
            f"{escape(url)}</a>"
        )
        last = found.start() + len(url)
    out.append(str(escape(text[last:])))
    return Markup("".join(out))


templates.filters["linkify"] = linkify
templates.globals["replied_to"] = replied_to
