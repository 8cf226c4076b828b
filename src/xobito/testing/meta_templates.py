"""Meta-format message templates and the Graph API's cursor pagination, for the fake server."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

DEFAULT_LIMIT = 25
MAX_LIMIT = 1000


def make_template(
    name: str,
    *,
    template_id: str | None = None,
    language: str = "en_US",
    status: str = "APPROVED",
    category: str = "UTILITY",
    header: Mapping[str, Any] | None = None,
    body: str = "Hello {{1}}, your order {{2}} is confirmed.",
    body_examples: Sequence[str] | None = ("Jane", "#1234"),
    footer: str | None = None,
    buttons: Sequence[Mapping[str, Any]] | None = None,
    quality: str | None = None,
) -> dict[str, Any]:
    """One template as ``GET /{waba-id}/message_templates`` returns it."""
    components: list[dict[str, Any]] = []
    if header is not None:
        components.append({"type": "HEADER", **header})
    body_component: dict[str, Any] = {"type": "BODY", "text": body}
    if body_examples:
        body_component["example"] = {"body_text": [list(body_examples)]}
    components.append(body_component)
    if footer is not None:
        components.append({"type": "FOOTER", "text": footer})
    if buttons:
        components.append({"type": "BUTTONS", "buttons": [dict(b) for b in buttons]})
    # Meta's template ids are 15-16 digit numbers; derive a stable one from the name.
    tid = template_id or str(10**15 + int.from_bytes(name.encode()[:6].ljust(6, b"\0"), "big"))
    template: dict[str, Any] = {
        "name": name,
        "parameter_format": "POSITIONAL",
        "components": components,
        "language": language,
        "status": status,
        "category": category,
        "id": tid,
    }
    if quality is not None:  # Meta sends it when ``fields`` asks for ``quality_score``
        template["quality_score"] = {"score": quality}
    return template


def sample_templates() -> list[dict[str, Any]]:
    """Meta's stock ``hello_world`` plus a media/button template exercising every component."""
    return [
        make_template(
            "hello_world",
            template_id="1192593412290463",
            header={"format": "TEXT", "text": "Hello World"},
            body="Welcome and congratulations!! This message demonstrates your ability to send "
            "a WhatsApp message notification from the Cloud API, hosted by Meta. Thank you "
            "for taking the time to test with us.",
            body_examples=None,
            footer="WhatsApp Business Platform sample message",
            quality="GREEN",
        ),
        make_template(
            "order_update",
            template_id="1357924680135792",
            category="MARKETING",
            header={
                "format": "IMAGE",
                "example": {"header_handle": ["https://scontent.whatsapp.net/example.jpg"]},
            },
            footer="Reply STOP to opt out",
            buttons=[
                {
                    "type": "URL",
                    "text": "Track order",
                    "url": "https://shop.example.com/track/{{1}}",
                    "example": ["https://shop.example.com/track/1234"],
                },
                {"type": "QUICK_REPLY", "text": "Talk to us"},
            ],
            quality="YELLOW",
        ),
    ]


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _offset(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        prefix, _, number = text.partition(":")
        if prefix != "offset":
            raise ValueError(cursor)
        return int(number)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"Invalid cursor: {cursor!r}") from exc


def _with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.update(params)
    return urlunsplit(parts._replace(query=urlencode(query)))


def paginate(
    items: Sequence[dict[str, Any]], query: Mapping[str, str], request_url: str
) -> dict[str, Any]:
    """Graph cursor pagination: ``limit`` + ``after``/``before``; absolute ``next``/``previous``."""
    try:
        limit = int(query.get("limit", DEFAULT_LIMIT))
    except ValueError as exc:
        raise ValueError("limit must be an integer") from exc
    if not 0 < limit <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT}")
    if "after" in query:
        start = _offset(query["after"])
    elif "before" in query:
        start = max(0, _offset(query["before"]) - limit)
    else:
        start = 0
    page = [dict(item) for item in items[start : start + limit]]
    body: dict[str, Any] = {"data": page}
    if not page:
        return body  # Meta omits paging on an empty page
    end = start + len(page)
    paging: dict[str, Any] = {"cursors": {"before": _cursor(start), "after": _cursor(end)}}
    base = _with_query(request_url, limit=str(limit))
    if end < len(items):
        paging["next"] = _remove_param(_with_query(base, after=_cursor(end)), "before")
    if start > 0:
        paging["previous"] = _remove_param(_with_query(base, before=_cursor(start)), "after")
    body["paging"] = paging
    return body


def _remove_param(url: str, name: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != name]
    return urlunsplit(parts._replace(query=urlencode(query)))
