"""Pure builders of Meta Cloud API message bodies from the fields of our API (spec section 8).

Each builder returns a complete body for ``POST /{phone-number-id}/messages`` that validates
against Meta's OpenAPI schema (with the relaxations of ``xobito.testing.meta_schema``). Input
limits (lengths, counts, URL schemes) are enforced by the API layer before these are called;
the builders only refuse combinations that have no Meta representation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

MediaType = Literal["image", "document", "video", "audio"]
ButtonSubType = Literal["url", "quick_reply"]

MEDIA_TYPES: frozenset[str] = frozenset({"image", "document", "video", "audio"})
_CAPTIONED: frozenset[str] = frozenset({"image", "video", "document"})


def to_digits(phone: str) -> str:
    """Meta wants the recipient as digits only: ``"+1 (415) 555-1234"`` -> ``"14155551234"``."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    if not digits:
        raise ValueError("recipient has no digits")  # not echoed: logs keep no phone numbers
    return digits


def _envelope(to: str, message_type: str) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to_digits(to),
        "type": message_type,
    }


def text_message(
    to: str,
    body: str,
    header: str | None = None,
    footer: str | None = None,
    *,
    preview_url: bool = False,
) -> dict[str, Any]:
    """``message_type: text``.

    Meta's text message has only ``body`` and ``preview_url``: there is no header or footer.
    Given ones are deliberately not sent (folding them into the body would change the text the
    API reports as sent); callers wanting them should use ``interactive``/``cta_url``.
    """
    del header, footer  # accepted for a uniform call shape; see docstring
    payload = _envelope(to, "text")
    payload["text"] = {"body": body, "preview_url": preview_url}
    return payload


def _interactive(
    to: str,
    kind: str,
    body: str,
    action: dict[str, Any],
    header: str | None,
    footer: str | None,
) -> dict[str, Any]:
    interactive: dict[str, Any] = {"type": kind}
    if header:
        interactive["header"] = {"type": "text", "text": header}
    interactive["body"] = {"text": body}
    if footer:
        interactive["footer"] = {"text": footer}
    interactive["action"] = action
    payload = _envelope(to, "interactive")
    payload["interactive"] = interactive
    return payload


def interactive_buttons(
    to: str,
    body: str,
    buttons: Sequence[Mapping[str, str]],
    header: str | None = None,
    footer: str | None = None,
) -> dict[str, Any]:
    """``message_type: interactive``: reply buttons, each ``{"id", "title"}``."""
    if not buttons:
        raise ValueError("an interactive message needs at least one button")
    action = {
        "buttons": [
            {"type": "reply", "reply": {"id": str(b["id"]), "title": str(b["title"])}}
            for b in buttons
        ]
    }
    return _interactive(to, "button", body, action, header, footer)


def cta_url(
    to: str,
    body: str,
    display_text: str,
    url: str,
    header: str | None = None,
    footer: str | None = None,
) -> dict[str, Any]:
    """``message_type: cta_url``: one URL button (``button_text`` / ``button_url``)."""
    action = {"name": "cta_url", "parameters": {"display_text": display_text, "url": url}}
    return _interactive(to, "cta_url", body, action, header, footer)


def _media_object(
    media_type: str,
    link: str | None,
    media_id: str | None,
    caption: str | None = None,
    filename: str | None = None,
) -> dict[str, Any]:
    if media_type not in MEDIA_TYPES:
        raise ValueError(f"unsupported media type: {media_type!r}")
    if (link is None) == (media_id is None):
        raise ValueError("exactly one of link or media id is required")
    if caption is not None and media_type not in _CAPTIONED:
        raise ValueError(f"{media_type} messages cannot carry a caption")
    if filename is not None and media_type != "document":
        raise ValueError("only documents carry a filename")
    obj: dict[str, Any] = {"link": link} if link is not None else {"id": media_id}
    if caption:
        obj["caption"] = caption
    if filename:
        obj["filename"] = filename
    return obj


def media(
    to: str,
    media_type: MediaType,
    link: str | None = None,
    media_id: str | None = None,
    caption: str | None = None,
    filename: str | None = None,
) -> dict[str, Any]:
    """``POST /messages/media``: image/document/video/audio by public URL or uploaded media id."""
    payload = _envelope(to, media_type)
    payload[media_type] = _media_object(media_type, link, media_id, caption, filename)
    return payload


def _header_parameter(header: str | Mapping[str, str]) -> dict[str, Any]:
    if isinstance(header, str):
        return {"type": "text", "text": header}
    kind = header.get("type", "")
    obj = _media_object(
        kind,
        header.get("link"),
        header.get("id"),
        filename=header.get("filename") if kind == "document" else None,
    )
    return {"type": kind, kind: obj}


def _button_component(index: int | str, sub_type: ButtonSubType, value: str) -> dict[str, Any]:
    if sub_type == "url":
        parameter: dict[str, Any] = {"type": "text", "text": value}  # the URL's dynamic suffix
    elif sub_type == "quick_reply":
        parameter = {"type": "payload", "payload": value}
    else:
        raise ValueError(f"unsupported template button sub_type: {sub_type!r}")
    # Meta wants the index as a string "0".."9" (template buttons are 0-based).
    return {"type": "button", "sub_type": sub_type, "index": str(index), "parameters": [parameter]}


def template(
    to: str,
    name: str,
    language: str,
    header_param: str | Mapping[str, str] | None = None,
    body_params: Iterable[str] = (),
    buttons: Iterable[tuple[int | str, ButtonSubType, str]] = (),
) -> dict[str, Any]:
    """``POST /messages/template``.

    ``header_param`` is the text for ``{{1}}`` of a text header, or a media header
    ``{"type": "image"|"video"|"document", "link"|"id": ..., "filename"?: ...}``.
    ``body_params`` fill ``{{1}}``.. of the body in order; ``buttons`` are
    ``(index, "url"|"quick_reply", value)`` for dynamic buttons only.
    Components without parameters are omitted, as Meta expects. ``language.policy`` is not
    sent: Meta's examples omit it and the API defaults it.
    """
    components: list[dict[str, Any]] = []
    if header_param is not None:
        components.append({"type": "header", "parameters": [_header_parameter(header_param)]})
    body = [{"type": "text", "text": str(p)} for p in body_params]
    if body:
        components.append({"type": "body", "parameters": body})
    components.extend(_button_component(i, s, v) for i, s, v in buttons)
    tpl: dict[str, Any] = {"name": name, "language": {"code": language}}
    if components:
        tpl["components"] = components
    payload = _envelope(to, "template")
    payload["template"] = tpl
    return payload
