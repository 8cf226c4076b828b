"""The campaign wizard (admin): one form in four steps (template and sending number, each
variable's source, audience, schedule and rate) beside a summary that follows it live: the
audience's count with the exclusions the start will make, and the message as the first
recipient would read it.

The form is turned into ``POST /campaigns``' body, and its files (a CSV audience, the
header's medium) into the parts of its multipart form, and given to
``CampaignService.create`` (the API's rules and messages, shown beside the fields; every
value but a chosen file is kept on an error). "Save as draft" creates it in ``draft``, to be
started from its page. Choosing a template swaps the variables step (``_variables.html``);
choosing a CSV file reads it (``campaign_csv``, ``_csv.html``); any change refreshes the
summary (``_summary.html``), all from ``/campaigns/new/preview``.
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
from xobito.contact.repository import ContactRepository
from xobito.kit.errors import ValidationFailed
from xobito.kit.multipart import FilePart
from xobito.message.uploads import HEADER_LIMITS_KB
from xobito.models import Contact, Template
from xobito.template.repository import TemplateRepository
from xobito.template.schemas import dynamic_buttons
from xobito.web import campaign_csv
from xobito.web.campaigns import EXCLUSION_LABELS
from xobito.web.contacts import labels
from xobito.web.deps import Member, Role
from xobito.web.forms import form_data, form_file
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
    "name", "template", "from_phone_number_id", "header_url", "header_file",
    "header_document_name", "variables", "audience", "csv_file", "csv_status_id",
    "csv_source_id", "when", "scheduled_at", "timezone", "rate_per_second",
)  # fmt: skip
MEDIA = variables.MEDIA_FORMATS
FRAGMENTS = {
    "campaign-variables": "campaigns/_variables.html",
    "campaign-summary": "campaigns/_summary.html",
    "campaign-csv": "campaigns/_csv.html",
}
ACCEPT = {
    "image": "image/jpeg,image/png",
    "video": "video/mp4,video/3gpp",
    "document": ".pdf,.txt,.doc,.docx,.xls,.xlsx,.ppt,.pptx",
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
        kind = data.get(f"var_{slot}_kind")
        if kind == "constant":
            out[slot] = {"type": "constant", "value": data.get(f"var_{slot}_value")}
        elif kind == "csv":
            out[slot] = {
                "type": "csv",
                "column": data.get(f"var_{slot}_column"),
                "fallback": data.get(f"var_{slot}_fallback"),
            }
        else:
            out[slot] = {
                "type": "contact",
                "field": data.get(f"var_{slot}_field"),
                "fallback": data.get(f"var_{slot}_fallback"),
            }
    return out


def from_csv(data: Mapping[str, Any]) -> bool:
    return data.get("audience_kind") == "csv"


def _id(raw: Any) -> Any:
    return int(raw) if isinstance(raw, str) and raw.isdigit() and len(raw) < 10 else raw


def audience_of(data: Mapping[str, Any]) -> dict[str, Any]:
    if from_csv(data):
        return {}
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
        "timezone": data.get("timezone") or "UTC",
        "rate_per_second": data.get("rate_per_second"),
        "draft": True if data.get("draft") == "1" else None,
    }
    if from_csv(data):
        body["csv_status_id"] = _id(data.get("csv_status_id"))
        body["csv_source_id"] = _id(data.get("csv_source_id"))
    else:
        body["audience"] = audience_of(data)
    if data.get("when") == "later":
        body["scheduled_at"] = data.get("scheduled_at") or ""
    medium = MEDIA.get((t.header_data_format or "") if t else "")
    if medium:
        body[f"header_{medium}_url"] = data.get("header_url")
        if medium == "document":
            body["header_document_name"] = data.get("header_document_name")
    return {k: v for k, v in body.items() if v is not None}


async def files_of(
    request: Request, t: Template | None, data: Mapping[str, Any]
) -> dict[str, FilePart]:
    """The form's files as the multipart parts ``POST /campaigns`` takes."""
    files: dict[str, FilePart] = {}
    if from_csv(data):
        part = await campaign_csv.csv_part(await form_file(request, "csv_file"))
        if part is not None:
            files["csv_file"] = part
    medium = MEDIA.get((t.header_data_format or "") if t else "")
    if medium:
        field = f"header_{medium}_file"
        limit = HEADER_LIMITS_KB[medium] * 1024
        part = await campaign_csv.file_part(await form_file(request, "header_file"), field, limit)
        if part is not None:
            files[field] = part
    return files


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
        elif parts[0].startswith("header_") and parts[0].endswith("_file"):
            name = "header_file"
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


NO_SUMMARY: dict[str, Any] = {
    "estimate": None, "sample": None, "shown": None, "csv": None, "sample_missing": False,
}  # fmt: skip


def _shown(t: Template, values: Mapping[str, str]) -> Any:
    query = {f"body_{n}": values.get(f"field_{n}", "") for n in range(1, 11)}
    query["header_1"] = values.get("header_field_1", "")
    query |= {f"button_{i}_1": values.get(f"button_{i}", "") for i in range(10)}
    return preview(t, query)


async def _csv_summary(
    member: Member, t: Template, data: Mapping[str, Any], specs: dict[str, Any]
) -> dict[str, Any]:
    """A CSV audience: the counts read when the file was chosen, and its first usable row's
    message (from its contact when the number has one, as the start will)."""
    found = campaign_csv.carried(data)
    out: dict[str, Any] = {**NO_SUMMARY, "csv": found}
    first = (found or {}).get("sample")
    if not isinstance(first, dict) or not isinstance(first.get("values"), dict):
        return out
    phone = str(first.get("phone") or "")[:64]
    row = {str(k): str(v) for k, v in first["values"].items()}
    known = (await ContactRepository(member.session, member.workspace.id).by_phones({phone}))
    contact: Any = known.get(phone)
    fields = (
        {f: getattr(contact, f) for f in FIELD_LABELS} if contact is not None
        else {"phone": phone, "firstname": row.get("firstname") or phone, "lastname": ""}
    )  # fmt: skip
    values = variables.resolve(specs, fields, row)
    out["sample"] = contact if contact is not None else fields
    out["shown"] = _shown(t, values) if values is not None else None
    out["sample_missing"] = values is None
    return out


async def _summary(member: Member, t: Template | None, data: Mapping[str, Any]) -> dict[str, Any]:
    """The live summary: audience count and exclusions, and a sample recipient's message."""
    audience = audience_of(data)
    if t is not None and from_csv(data):
        ignored: dict[str, list[str]] = {}
        specs = variables.normalise(variables_of(t, data), ignored)
        return await _csv_summary(member, t, data, specs)
    if t is None or not audience:
        return dict(NO_SUMMARY)
    ignored = {}
    specs = variables.normalise(variables_of(t, data), ignored)
    found = await estimate(member.session, member.workspace.id, t, audience, specs)
    sample = shown = None
    if found.sample is not None and found.sample_values is not None:
        sample = await member.session.get(Contact, found.sample["id"])
        shown = _shown(t, found.sample_values)
    return {**NO_SUMMARY, "estimate": found, "sample": sample, "shown": shown}


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
        "accept": ACCEPT,
        "csv_check": campaign_csv.carried(data),
        "csv_check_raw": data.get("csv_check") or "",
        **await _summary(member, t, data),
    }


@router.get("/new", name="web.campaigns.new")
async def new(request: Request, member: Member = Role("admin")) -> Response:
    data = {"when": "now", "timezone": "UTC", "audience_all": "1", "audience_kind": "contacts"}
    return render(request, "campaigns/new.html", await _context(request, member, data))


@router.post("/new/preview", name="web.campaigns.preview")
async def preview_form(request: Request, member: Member = Role("admin")) -> Response:
    data = await form_data(request)
    headers = {}
    target = request.headers.get("hx-target")
    if target in ("campaign-variables", "campaign-csv"):
        headers["HX-Trigger-After-Settle"] = "campaign-changed"
    if target == "campaign-csv":  # a CSV file chosen: read it once, as the create will
        part = await campaign_csv.csv_part(await form_file(request, "csv_file"))
        data["csv_check"] = campaign_csv.dumps(campaign_csv.check(part) if part else None)
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
    files = await files_of(request, t, data)
    service = CampaignService(member.session, member.info, request.app.state.providers)
    try:
        campaign = await service.create(body_of(t, data), files, user_id=member.user.id)
    except ValidationFailed as exc:
        errors = form_errors(exc.errors)
        if from_csv(data) and "csv_file" not in files:
            errors.pop("audience", None)  # "required when csv file is not present"
            errors["csv_file"] = [campaign_csv.NO_FILE]
        context = await _context(request, member, data, errors)
        return render(request, "campaigns/new.html", context, status_code=422)
    engine = getattr(request.app.state, "campaigns", None)
    if engine is not None:
        engine.wake()
    if campaign.state == "draft":
        message = f"Campaign {campaign.name} saved as a draft: start it here when ready."
    elif campaign.scheduled_at and data.get("when") == "later":
        message = f"Campaign {campaign.name} is scheduled."
    else:
        message = f"Campaign {campaign.name} starts."
    report = campaign.csv_report or {}
    if report.get("bad_rows"):
        n = report["bad_rows"]
        message += f" {n} row{'s' if n != 1 else ''} of the CSV could not be used (below)."
    return redirect(request, member.url(f"/campaigns/{campaign.id}"), message)
