"""CSRF protection for every state-changing dashboard request, in two independent layers.

1. Fetch metadata: an unsafe request must come from our own origin: ``Sec-Fetch-Site`` is
   ``same-origin`` (or ``none``, typed by the user), or, from browsers that do not send it, an
   ``Origin`` naming our host.
2. A token bound to the browser's secret cookie: ``HMAC-SHA256(cookie, "xobito-csrf")`` of the
   session cookie when signed in (a new session at sign-in rotates it), or of an anonymous
   cookie on the pages before sign-in (sign-in itself, invitations, password resets). Pages
   carry it in ``<meta name="csrf-token">`` (``app.js`` sends it as ``X-CSRF-Token`` on htmx
   requests) and in a hidden ``csrf_token`` field (forms work without JavaScript); compared
   in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from starlette.requests import Request

from xobito.kit.errors import Forbidden

SESSION_COOKIE = "xobito_session"
ANON_COOKIE = "xobito_anon"
HEADER = "x-csrf-token"
FIELD = "csrf_token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
FAILED = "This form has expired or did not come from this site. Reload the page and try again."


class CsrfFailed(Forbidden):
    """403: the request's origin or token did not check out."""

    def __init__(self) -> None:
        super().__init__(FAILED)


def token_for(cookie: str) -> str:
    return hmac.new(cookie.encode(), b"xobito-csrf", hashlib.sha256).hexdigest()


def page_token(request: Request) -> str:
    """The token a page rendered for this request carries.

    Signed in: from the session cookie. Otherwise from the anonymous cookie, made now if the
    browser has none (``render`` then sets it on the response).
    """
    signed = getattr(request.state, "viewer", None)
    if signed is not None:
        return token_for(signed.cookie)
    anon = request.cookies.get(ANON_COOKIE) or getattr(request.state, "new_anon_cookie", None)
    if not anon or len(anon) > 128:
        anon = request.state.new_anon_cookie = secrets.token_urlsafe(32)
    return token_for(anon)


def same_origin(request: Request) -> bool:
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None  # no metadata at all (old clients): the token decides
    return urlsplit(origin).netloc == request.headers.get("host", "")


async def check(request: Request) -> None:
    """App-wide dependency of the dashboard: raises ``CsrfFailed`` for a bad unsafe request."""
    if request.method in SAFE_METHODS:
        return
    if not same_origin(request):
        raise CsrfFailed()
    given = request.headers.get(HEADER)
    if given is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(FIELD)
            given = value if isinstance(value, str) else None
    if not given:
        raise CsrfFailed()
    for name in (SESSION_COOKIE, ANON_COOKIE):
        cookie = request.cookies.get(name)
        if cookie and len(cookie) <= 128 and hmac.compare_digest(token_for(cookie), given):
            return
    raise CsrfFailed()
