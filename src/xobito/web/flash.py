"""One-shot messages shown on the next page ("Contact created."), carried in a short-lived
cookie across the redirect that follows a successful form post."""

from __future__ import annotations

import base64
import json
from typing import Any

from starlette.requests import Request

COOKIE = "xobito_flash"
KINDS = ("success", "error", "info")


def add(request: Request, response: Any, message: str, kind: str = "success") -> None:
    messages = [*take(request), {"kind": kind if kind in KINDS else "info", "text": message}]
    encoded = base64.urlsafe_b64encode(json.dumps(messages[-5:]).encode()).decode()
    response.set_cookie(
        COOKIE,
        encoded,
        max_age=120,
        path="/app",
        httponly=True,
        samesite="lax",
        secure=request.app.state.settings.env == "production",
    )


def take(request: Request) -> list[dict[str, str]]:
    raw = request.cookies.get(COOKIE)
    if not raw or len(raw) > 4096:
        return []
    try:
        decoded = json.loads(base64.urlsafe_b64decode(raw.encode()))
    except ValueError:
        return []
    if not isinstance(decoded, list):
        return []
    return [
        {"kind": str(m.get("kind")), "text": str(m.get("text"))}
        for m in decoded
        if isinstance(m, dict) and m.get("kind") in KINDS
    ]


def clear(response: Any) -> None:
    response.delete_cookie(COOKIE, path="/app")
