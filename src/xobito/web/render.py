"""Rendering pages: one Jinja environment, and ``render()``, the page-or-fragment helper every
dashboard handler answers with.

The pattern (follow it for new pages, e.g. the inbox and campaigns):

* A page template (``contacts/list.html``) extends ``base.html`` and ``{% include %}``s its
  partials (``contacts/_table.html``); partials start with ``_``.
* The handler calls ``render(request, "contacts/list.html", ctx, fragment="contacts/_table.html")``:
  a normal request gets the whole page; an htmx request (``HX-Request: true``) that is not a
  history restore gets only the partial, so the first render and every later swap come from
  the same file. Where a page has several swap targets, ``fragment`` maps the ``HX-Target``
  id to its partial. Every answer carries ``Vary: HX-Request`` and ``Cache-Control: no-store``.
* The query string is the state of a list: ``url_with(page=2)`` is this URL with one thing
  changed, so every pushed URL renders the same view when loaded cold.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import phonenumbers
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from xobito.web import flash
from xobito.web.assets import static_url
from xobito.web.csrf import ANON_COOKIE, page_token

PREFIX = "/app"

templates = Environment(
    loader=PackageLoader("xobito.web", "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def when(value: datetime | None, missing: str = "—") -> str:
    """``2 Dec 2026, 14:03`` in UTC (the dashboard's one time zone, stated in the pages)."""
    if value is None:
        return missing
    value = value.astimezone(UTC)
    return f"{value.day} {value:%b %Y, %H:%M}"


def pretty_json(value: Any) -> str:
    if isinstance(value, bytes | str):
        try:
            value = json.loads(value)
        except ValueError:
            return value.decode(errors="replace") if isinstance(value, bytes) else value
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False)


def phone(value: str | None) -> str:
    """``+81 90-1234-5678`` for ``+819012345678``: how people read numbers (stored E.164)."""
    if not value:
        return "—"
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return value
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def meta_error(code: int | None, text: str | None) -> str:
    """``Meta error 131026: Message undeliverable``: the code once (a stored reason often
    starts with it already)."""
    reason = text or "no reason given"
    if code is not None and reason.startswith(f"{code}: "):
        reason = reason[len(f"{code}: ") :]
    return f"Meta error {code}: {reason}" if code is not None else f"Meta error: {reason}"


templates.filters["when"] = when
templates.filters["pretty_json"] = pretty_json
templates.filters["phone"] = phone
templates.globals["static_url"] = static_url
templates.globals["plural"] = plural
templates.globals["meta_error"] = meta_error


def app_url(path: str = "/") -> str:
    return PREFIX + path


templates.globals["app_url"] = app_url


def is_htmx(request: Request) -> bool:
    """An htmx request wanting a fragment: not a history restore (a cache miss on Back,
    which needs the whole page)."""
    headers = request.headers
    return (
        headers.get("hx-request") == "true" and headers.get("hx-history-restore-request") != "true"
    )


def url_with(request: Request, **changes: Any) -> str:
    """This page's URL with some query parameters changed (``None`` removes one)."""
    query: dict[str, Any] = dict(request.query_params.multi_items())
    for key, value in changes.items():
        if value is None or value == "":
            query.pop(key, None)
        else:
            query[key] = value
    path = request.url.path
    return f"{path}?{urlencode(query)}" if query else path


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    fragment: str | Mapping[str, str] | None = None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    name = template
    if fragment is not None and is_htmx(request):
        if isinstance(fragment, str):
            name = fragment
        else:
            name = fragment.get(request.headers.get("hx-target", ""), template)
    messages = flash.take(request)
    ctx: dict[str, Any] = {
        "request": request,
        "csrf_token": page_token(request),
        "viewer": getattr(request.state, "viewer", None),
        "member": getattr(request.state, "member", None),
        "flashes": messages,
        "url_with": lambda **changes: url_with(request, **changes),
        "htmx": is_htmx(request),
    }
    ctx.update(context or {})
    html = templates.get_template(name).render(ctx)
    response = HTMLResponse(html, status_code=status_code, headers=dict(headers or {}))
    response.headers["Vary"] = "HX-Request"
    response.headers["Cache-Control"] = "no-store"
    if messages:
        flash.clear(response)
    new_anon = getattr(request.state, "new_anon_cookie", None)
    if new_anon:
        set_cookie(request, response, ANON_COOKIE, new_anon, max_age=86_400)
    return response


def redirect(
    request: Request, url: str, message: str | None = None, kind: str = "success"
) -> Response:
    """After a successful post: a 303 to ``url``, or for htmx ``HX-Redirect`` (a full page
    load, so the whole layout, and the flash ``message`` on it, are fresh)."""
    response: Response
    if request.headers.get("hx-request") == "true":
        response = Response(status_code=200, headers={"HX-Redirect": url})
    else:
        response = RedirectResponse(url, status_code=303)
    if message:
        flash.add(request, response, message, kind)
    return response


def safe_back(value: Any, default: str) -> str:
    """A "back to" path from a form: only this dashboard's own pages."""
    ok = isinstance(value, str) and value.startswith("/app/")
    if ok and "\\" not in value and "://" not in value and "//" not in value:
        return str(value)
    return default


def set_cookie(
    request: Request, response: Any, name: str, value: str, *, max_age: int | None = None
) -> None:
    """HttpOnly, SameSite=Lax, path ``/app``; Secure in production."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=PREFIX,
        httponly=True,
        samesite="lax",
        secure=request.app.state.settings.env == "production",
    )


def fragment_markup(name: str, context: Mapping[str, Any]) -> Markup:
    """A partial rendered to markup (for out-of-band pieces of another response)."""
    return Markup(templates.get_template(name).render(context))
