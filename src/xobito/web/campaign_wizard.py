"""The campaign wizard (admin): one form in four steps (template and sending number, each
variable's source, audience, schedule and rate) beside a summary that follows it live: the
audience's count with the exclusions the start will make, and the message as the first
recipient would read it.

The form is turned into ``POST /campaigns``' body and given to ``CampaignService.create``
(the API's rules and messages, shown beside the fields; every value is kept on an error).
Choosing a template swaps the variables step (``_variables.html``); any change refreshes the
summary (``_summary.html``), both from ``/campaigns/new/preview``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from zoneinfo import available_timezones

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from xobito.api.routing import DatabaseRoute
from xobito.campaign import variables
from xobito.campaign.estimate import estimate
from xobito.campaign.service import CampaignService
from xobito.campaign.settings_service import CampaignSettings
from xobito.connection.service import ConnectionService
from xobito.kit.errors import ValidationFailed
from xobito.models import Contact, Template
from xobito.template.repository import TemplateRepository
from xobito.template.schemas import dynamic_buttons
from xobito.web.campaigns import EXCLUSION_LABELS
from xobito.web.contacts import labels
from xobito.web.deps import Member, Role
from xobito.web.forms import form_data
from xobito.web.message_templates import preview
from xobito.web.render import redirect, render

router = APIRouter(prefix="/{subdomain}/campaigns", route_class=DatabaseRoute)

ZONES = [(z, z) for z in sorted(available_timezones())]
FIELD_LABELS = {
    "firstname": "First name",
    "lastname": "Last name",
    "company": "Company",
    "email": "Email",
    "phone": "Phone",
    "city": "City",
    "state": "State",
    "zip": "ZIP",
    "address": "Address",
    "website": "Website",
    "description": "Description",
}
FORM_FIELDS = (
    "name", "template", "from_phone_number_id", "header_url", "variables", "audience",
    "when", "scheduled_at", "timezone", "rate_per_second",
)  # fmt: skip
MEDIA = variables.MEDIA_FORMATS
FRAGMENTS = {
    "campaign-variables": "campaigns/_variables.html",
    "campaign-summary": "campaigns/_summary.html",
}


def slots(t: Template | None) -> list[tuple[str, str]]:
    """``(slot, label)`` of every value the template takes, as the form asks for them."""
    if t is None:
        return []
    out = [("header_field_1", "Header {{1}}")] if t.header_params_count else []
    out += [(f"field_{n}", f"Body {{{{{n}}}}}") for n in range(1, t.body_params_count + 1)]
    out += [
        (f"button_{i}", f"Button {i + 1} URL {{{{1}}}}")
        for i, kind in dynamic_buttons(t)
        if kind == "url"
    ]
    return out


def _ids(raw: Any) -> list[int]:
    return [int(v) for v in raw or [] if str(v).isdigit() and int(v) < 2**31]


def variables_of(t: Template | None, data: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for slot, _ in slots(t):
        if data.get(f"var_{slot}_kind") == "constant":
            out[slot] = {"type": "constant", "value": data.get(f"var_{slot}_value")}
        else:
            out[slot] = {
                "type": "contact",
                "field": data.get(f"var_{slot}_field"),
                "fallback": data.get(f"var_{slot}_fallback"),
            }
    return out


def audience_of(data: Mapping[str, Any]) -> dict[str, Any]:
    if data.get("audience_all") == "1":
        return {"all": True}
    chosen = {
        "group_ids": _ids(data.get("groups")),
        "status_ids": _ids(data.get("statuses")),
        "source_ids": _ids(data.get("sources")),
    }
    return {k: v for k, v in chosen.items() if v}


def body_of(t: Template | None, data: Mapping[str, Any]) -> dict[str, Any]:
    """The form as ``POST /campaigns``' JSON body."""
    body: dict[str, Any] = {
        "name": data.get("name"),
        "template_name": t.template_name if t else None,
        "template_language": t.language if t else None,
        "from_phone_number_id": data.get("from_phone_number_id"),
        "variables": variables_of(t, data),
        "audience": audience_of(data),
        "timezone": data.get("timezone") or "UTC",
        "rate_per_second": data.get("rate_per_second"),
    }
    if data.get("when") == "later":
        body["scheduled_at"] = data.get("scheduled_at") or ""
    medium = MEDIA.get((t.header_data_format or "") if t else "")
    if medium:
        body[f"header_{medium}_url"] = data.get("header_url")
    return {k: v for k, v in body.items() if v is not None}


def form_errors(errors: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """The service's error keys as the form's field names."""
    out: dict[str, list[str]] = {}
    for key, messages in errors.items():
        parts = key.split(".")
        if parts[0] in ("template_name", "template_language"):
            name = "template"
        elif parts[0] == "variables" and len(parts) > 1:
            name = "_".join(["var", parts[1], *parts[2:3]])
        elif parts[0] == "audience":
            name = "audience"
        elif parts[0].startswith("header_") and parts[0].endswith("_url"):
            name = "header_url"
        else:
            name = parts[0]
        out.setdefault(name, []).extend(messages)
    return out


async def _template(member: Member, data: Mapping[str, Any]) -> Template | None:
    raw = str(data.get("template") or "")
    if not raw.isdigit():
        return None
    found = await TemplateRepository(member.session, member.workspace.id).get(int(raw[:10]))
    return found if found is not None and found.status == "APPROVED" else None


async def _summary(member: Member, t: Template | None, data: Mapping[str, Any]) -> dict[str, Any]:
    """The live summary: audience count and exclusions, and a sample recipient's message."""
    audience = audience_of(data)
    if t is None or not audience:
        return {"estimate": None, "sample": None, "shown": None}
    ignored: dict[str, list[str]] = {}
    specs = variables.normalise(variables_of(t, data), ignored)
    found = await estimate(member.session, member.workspace.id, t, audience, specs)
    sample = shown = None
    if found.sample is not None and found.sample_values is not None:
        sample = await member.session.get(Contact, found.sample["id"])
        values = found.sample_values
        query = {f"body_{n}": values.get(f"field_{n}", "") for n in range(1, 11)}
        query["header_1"] = values.get("header_field_1", "")
        query |= {f"button_{i}_1": values.get(f"button_{i}", "") for i in range(10)}
        shown = preview(t, query)
    return {"estimate": found, "sample": sample, "shown": shown}


async def _context(
    request: Request,
    member: Member,
    data: Mapping[str, Any],
    errors: Mapping[str, list[str]] | None = None,
) -> dict[str, Any]:
    session, ws = member.session, member.workspace
    t = await _template(member, data)
    link = await ConnectionService(session).link(ws.id)
    numbers = list(link.phone_number_ids) if link else []
    number = data.get("from_phone_number_id") or (link.info.phone_number_id if link else None)
    rate = None
    if number and number in numbers:
        rate = await CampaignSettings(session, member.info).number(number)
    errors = dict(errors or {})
    known = {f"var_{s}" for s, _ in slots(t)}
    return {
        "values": data,
        "errors": errors,
        "other_errors": [
            m for k, ms in errors.items()
            if k not in FORM_FIELDS and not any(k.startswith(v) for v in known) for m in ms
        ],
        "templates": await TemplateRepository(session, ws.id).approved(),
        "t": t,
        "slots": slots(t),
        "medium": MEDIA.get(t.header_data_format or "") if t else None,
        "field_labels": FIELD_LABELS,
        "numbers": numbers,
        "rate": rate,
        "labels": await labels(member),
        "zones": ZONES,
        "exclusion_labels": EXCLUSION_LABELS,
        **await _summary(member, t, data),
    }


@router.get("/new", name="web.campaigns.new")
async def new(request: Request, member: Member = Role("admin")) -> Response:
    data = {"when": "now", "timezone": "UTC", "audience_all": "1"}
    return render(request, "campaigns/new.html", await _context(request, member, data))


@router.post("/new/preview", name="web.campaigns.preview")
async def preview_form(request: Request, member: Member = Role("admin")) -> Response:
    data = await form_data(request)
    headers = {}
    if request.headers.get("hx-target") == "campaign-variables":
        headers["HX-Trigger-After-Settle"] = "campaign-changed"
    return render(
        request,
        "campaigns/new.html",
        await _context(request, member, data),
        fragment=FRAGMENTS,
        headers=headers,
    )


@router.post("", name="web.campaigns.create")
async def create(request: Request, member: Member = Role("admin")) -> Response:
    data = await form_data(request)
    t = await _template(member, data)
    service = CampaignService(member.session, member.info, request.app.state.providers)
    try:
        campaign = await service.create(body_of(t, data), user_id=member.user.id)
    except ValidationFailed as exc:
        context = await _context(request, member, data, form_errors(exc.errors))
        return render(request, "campaigns/new.html", context, status_code=422)
    engine = getattr(request.app.state, "campaigns", None)
    if engine is not None:
        engine.wake()
    when = "is scheduled" if campaign.scheduled_at and data.get("when") == "later" else "starts"
    return redirect(
        request, member.url(f"/campaigns/{campaign.id}"), f"Campaign {campaign.name} {when}."
    )
