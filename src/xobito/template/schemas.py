"""The template record, and the mapping from Meta's template JSON to it."""

from __future__ import annotations

import re
from typing import Any

from xobito.kit.time import iso
from xobito.models import Template

_VARIABLE = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
STATUSES = ("DRAFT", "PENDING", "APPROVED", "REJECTED", "PAUSED", "DISABLED")
QUALITIES = ("GREEN", "YELLOW", "RED", "UNKNOWN")


def quality_of(meta: dict[str, Any]) -> str | None:
    """Meta's ``quality_score: {"score": "GREEN", ...}``, when the listing carries it."""
    score = meta.get("quality_score")
    value = str(score.get("score", "")).upper() if isinstance(score, dict) else ""
    return value if value in QUALITIES else None


def count_params(text: str | None) -> int:
    return len(set(_VARIABLE.findall(text or "")))


def from_meta(meta: dict[str, Any]) -> dict[str, Any]:
    """Column values for a template as Meta's ``message_templates`` endpoint returns it."""
    header = body = footer = None
    buttons: list[dict[str, Any]] | None = None
    cards: list[dict[str, Any]] | None = None
    for comp in meta.get("components") or []:
        kind = str(comp.get("type", "")).upper()
        if kind == "HEADER":
            header = comp
        elif kind == "BODY":
            body = comp
        elif kind == "FOOTER":
            footer = comp
        elif kind == "BUTTONS":
            buttons = list(comp.get("buttons") or [])
        elif kind == "CAROUSEL":
            cards = list(comp.get("cards") or [])
    header_format = str(header.get("format", "TEXT")).upper() if header else None
    header_text = header.get("text") if header else None
    example = (body or {}).get("example") or {}
    body_values = (example.get("body_text") or [[]])[0] if example else None
    status = str(meta.get("status", "PENDING")).upper()
    return {
        "template_id": str(meta.get("id", "")),
        "template_name": str(meta.get("name", "")),
        "language": str(meta.get("language", "")),
        "status": status if status in STATUSES else "PENDING",
        "category": str(meta["category"]).upper() if meta.get("category") else None,
        "header_data_format": header_format
        if header_format in ("TEXT", "IMAGE", "VIDEO", "DOCUMENT")
        else None,
        "header_data_text": header_text,
        "header_params_count": count_params(header_text) if header_format == "TEXT" else 0,
        "body_data": (body or {}).get("text"),
        "body_params_count": count_params((body or {}).get("text")),
        "footer_data": (footer or {}).get("text"),
        "footer_params_count": count_params((footer or {}).get("text")),
        "buttons_data": buttons,
        "header_file_url": None,
        "header_variable_value": None,
        "body_variable_value": list(body_values) if body_values else None,
        "template_type": "carousel" if cards else "standard",
        "cards_json": cards,
        "quality": quality_of(meta),
    }


def template_record(t: Template) -> dict[str, Any]:
    return {
        "id": t.id,
        "tenant_id": t.workspace_id,
        "template_id": t.template_id,
        "template_name": t.template_name,
        "language": t.language,
        "status": t.status,
        "category": t.category,
        "header_data_format": t.header_data_format,
        "header_data_text": t.header_data_text,
        "header_params_count": t.header_params_count,
        "body_data": t.body_data,
        "body_params_count": t.body_params_count,
        "footer_data": t.footer_data,
        "footer_params_count": t.footer_params_count,
        "buttons_data": t.buttons_data,
        "header_file_url": t.header_file_url,
        "header_variable_value": t.header_variable_value,
        "body_variable_value": t.body_variable_value,
        "template_type": t.template_type,
        "cards_json": t.cards_json,
        "created_at": iso(t.created_at),
        "updated_at": iso(t.updated_at),
    }


def dynamic_buttons(t: Template) -> list[tuple[int, str]]:
    """``(index, sub_type)`` of buttons that take a value: URL buttons with a variable, and
    quick replies (whose payload is optional)."""
    out: list[tuple[int, str]] = []
    for i, button in enumerate(t.buttons_data or []):
        kind = str(button.get("type", "")).upper()
        if kind == "URL" and _VARIABLE.search(str(button.get("url", ""))):
            out.append((i, "url"))
        elif kind == "QUICK_REPLY":
            out.append((i, "quick_reply"))
    return out
