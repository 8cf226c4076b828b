"""Templates: the list synchronised from Meta, a preview of each with sample values, and
"Sync from Meta" (``TemplateService.sync``, the same code as the admin API and CLI).

Every member sees the templates (agents send them from the inbox); syncing needs an admin.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from xobito.api.routing import DatabaseRoute
from xobito.kit.errors import UpstreamFailure, ValidationFailed
from xobito.kit.params import RecordId
from xobito.models import Template
from xobito.template.service import TemplateService
from xobito.web.deps import Member, Role
from xobito.web.lists import Pagination, page_params
from xobito.web.render import redirect, render

router = APIRouter(prefix="/{subdomain}/templates", route_class=DatabaseRoute)

VARIABLE = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
SAMPLE_MAX = 200  # characters of a sample value typed into the preview form
STATUS_BADGES = {
    "APPROVED": "badge-green",
    "PENDING": "badge-amber",
    "DRAFT": "badge-blue",
    "REJECTED": "badge-red",
    "PAUSED": "badge-amber",
    "DISABLED": "badge-red",
}
QUALITY = {
    "GREEN": ("High", "badge-green"),
    "YELLOW": ("Medium", "badge-amber"),
    "RED": ("Low", "badge-red"),
    "UNKNOWN": ("Not rated yet", ""),
}
MEDIA = {"IMAGE": "Image", "VIDEO": "Video", "DOCUMENT": "Document"}


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of a component's text: literal, or a variable filled with a sample value."""

    text: str
    variable: str | None = None


@dataclass(frozen=True, slots=True)
class Button:
    kind: str
    text: str
    detail: list[Segment] = field(default_factory=list)  # a URL or phone number


@dataclass(frozen=True, slots=True)
class Preview:
    header_media: str | None
    header: list[Segment]
    body: list[Segment]
    footer: list[Segment]
    buttons: list[Button]
    cards: list[list[Segment]]
    variables: list[tuple[str, str, str]]  # (input name, label, value) for the sample form


def variables_of(text: str | None) -> list[str]:
    return list(dict.fromkeys(VARIABLE.findall(text or "")))


def fill(text: str | None, samples: Mapping[str, str]) -> list[Segment]:
    """``text`` split into literal runs and variables, each variable given its sample (or
    shown as ``{{name}}`` when there is none)."""
    out: list[Segment] = []
    at = 0
    for match in VARIABLE.finditer(text or ""):
        if match.start() > at:
            out.append(Segment((text or "")[at : match.start()]))
        name = match.group(1)
        out.append(Segment(samples.get(name) or "{{" + name + "}}", name))
        at = match.end()
    if text and at < len(text):
        out.append(Segment(text[at:]))
    return out


def _examples(names: list[str], values: list[str] | None) -> dict[str, str]:
    return {n: str(v) for n, v in zip(names, values or [], strict=False)}


def preview(t: Template, query: Mapping[str, str]) -> Preview:
    """The template as a customer would see it, with Meta's example values, or the values
    typed into the preview form (``header_1``, ``body_2``, ``button_0_1``)."""
    variables: list[tuple[str, str, str]] = []

    def samples(prefix: str, label: str, names: list[str], given: dict[str, str]) -> dict[str, str]:
        chosen: dict[str, str] = {}
        for name in names:
            key = f"{prefix}_{name}"
            value = (query.get(key) or "").strip()[:SAMPLE_MAX] or given.get(name, "")
            chosen[name] = value
            variables.append((key, f"{label} {{{{{name}}}}}", value))
        return chosen

    header_text = t.header_data_text if t.header_data_format in (None, "TEXT") else None
    header_names = variables_of(header_text)
    header = fill(
        header_text,
        samples("header", "Header", header_names, _examples(header_names, t.header_variable_value)),
    )
    body_names = variables_of(t.body_data)
    body = fill(
        t.body_data,
        samples("body", "Body", body_names, _examples(body_names, t.body_variable_value)),
    )
    buttons: list[Button] = []
    for i, raw in enumerate(t.buttons_data or []):
        kind = str(raw.get("type", "")).upper()
        detail: list[Segment] = []
        if kind == "URL":
            url = str(raw.get("url", ""))
            names = variables_of(url)
            example = raw.get("example")
            given = _examples(names, _url_examples(url, example))
            detail = fill(url, samples(f"button_{i}", f"Button {i + 1}", names, given))
        elif kind == "PHONE_NUMBER":
            detail = [Segment(str(raw.get("phone_number", "")))]
        buttons.append(Button(kind, str(raw.get("text") or kind.replace("_", " ").title()), detail))
    cards = [
        fill(next((c.get("text") for c in card.get("components", []) if _is(c, "BODY")), ""), {})
        for card in (t.cards_json or [])
        if isinstance(card, dict)
    ]
    return Preview(
        header_media=MEDIA.get(t.header_data_format or ""),
        header=header,
        body=body,
        footer=fill(t.footer_data, {}),
        buttons=buttons,
        cards=cards,
        variables=variables,
    )


def _is(component: Any, kind: str) -> bool:
    return isinstance(component, dict) and str(component.get("type", "")).upper() == kind


def _url_examples(url: str, example: Any) -> list[str]:
    """Meta's URL button example is the whole URL; the variable is what differs."""
    if not isinstance(example, list) or not example:
        return []
    full = str(example[0])
    prefix = url.split("{{", 1)[0]
    return [full[len(prefix) :]] if full.startswith(prefix) and len(full) > len(prefix) else []


@router.get("", name="web.templates")
async def template_list(request: Request, member: Member = Role("agent")) -> Response:
    page, per_page = page_params(request.query_params)
    service = TemplateService(member.session, member.workspace.id)
    items, total = await service.page(page, per_page)
    if not items and page > 1 and total:
        page = Pagination(1, per_page, total).last_page
        items, total = await service.page(page, per_page)
    context = {
        "templates": items,
        "pager": Pagination(page, per_page, total),
        "status_badges": STATUS_BADGES,
        "quality": QUALITY,
    }
    return render(
        request,
        "message_templates/list.html",
        context,
        fragment={"templates-results": "message_templates/_results.html"},
    )


@router.post("/sync", name="web.templates.sync")
async def sync(request: Request, member: Member = Role("admin")) -> Response:
    service = TemplateService(member.session, member.workspace.id)
    back = member.url("/templates")
    try:
        counts = await service.sync(request.app.state.providers)
    except ValidationFailed as exc:  # not connected
        message = " ".join(m for ms in exc.errors.values() for m in ms)
        return redirect(request, back, message, "error")
    except UpstreamFailure as exc:  # Meta refused: say what it said
        said = " ".join(m for ms in exc.errors.values() for m in ms)
        return redirect(request, back, f"{exc.message}: {said}", "error")
    return redirect(
        request,
        back,
        f"Synced {counts['total']} templates from Meta: "
        f"{counts['created']} new, {counts['updated']} updated.",
    )


@router.get("/{template_id}", name="web.templates.show")
async def show(request: Request, template_id: RecordId, member: Member = Role("agent")) -> Response:
    template = await TemplateService(member.session, member.workspace.id).get(template_id)
    context = {
        "t": template,
        "preview": preview(template, request.query_params),
        "status_badges": STATUS_BADGES,
        "quality": QUALITY,
    }
    return render(
        request,
        "message_templates/show.html",
        context,
        fragment={"template-preview": "message_templates/_preview.html"},
    )
