"""Sign-in, sign-out, and where ``/app/`` takes a signed-in user."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from xobito.account.repository import MembershipRepository
from xobito.account.service import UserService, note_everywhere
from xobito.account.sessions import SessionService, SignedIn
from xobito.activity.recorder import Actor, act_as
from xobito.api.routing import DatabaseRoute
from xobito.web import flash
from xobito.web.csrf import SESSION_COOKIE
from xobito.web.deps import Member, Role, client_ip, signed_in, viewer
from xobito.web.forms import form_data
from xobito.web.render import render, set_cookie
from xobito.web.throttle import SignInThrottle

router = APIRouter(route_class=DatabaseRoute)
# ``/app/{subdomain}``: included last, after every fixed one-segment path.
workspace_home = APIRouter(route_class=DatabaseRoute)

FAILED = "These credentials do not match our records."
LAST_TRY = "One attempt left before sign-in is paused for {minutes} minutes."


def throttled_message(seconds: int) -> str:
    minutes = max(1, (seconds + 59) // 60)
    unit = "minute" if minutes == 1 else "minutes"
    return f"Too many sign-in attempts. Try again in {minutes} {unit}."


def safe_next(value: Any) -> str:
    """Only our own dashboard paths, never another site (``//evil``, ``https://...``)."""
    if not isinstance(value, str) or not value.startswith("/app/") or value.startswith("//"):
        return "/app/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or "\\" in value:
        return "/app/"
    return value


def _login_page(
    request: Request,
    values: dict[str, Any],
    errors: dict[str, list[str]],
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    return render(
        request,
        "auth/login.html",
        {"values": values, "errors": errors, "next": safe_next(values.get("next"))},
        status_code=status,
        headers=headers,
    )


@router.get("/login", name="web.login")
async def login_form(request: Request, next: str | None = None) -> Response:
    if await viewer(request) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_page(request, {"next": next}, {})


@router.post("/login", name="web.login.submit")
async def login(request: Request) -> Response:
    data = await form_data(request)
    email = data.get("email") if isinstance(data.get("email"), str) else None
    password = data.get("password") if isinstance(data.get("password"), str) else None
    values = {"email": email, "next": data.get("next")}
    errors: dict[str, list[str]] = {}
    if not email:
        errors["email"] = ["The email field is required."]
    if not password:
        errors["password"] = ["The password field is required."]
    if errors or email is None or password is None:
        return _login_page(request, values, errors, 422)
    settings = request.app.state.settings
    throttle = SignInThrottle(request.app.state.limiter, settings)
    ip = client_ip(request)
    wait = await throttle.wait_seconds(email, ip)
    if wait:
        errors = {"email": [throttled_message(wait)]}
        return _login_page(request, values, errors, 429, {"Retry-After": str(wait)})
    session = request.state.session
    user = (
        await UserService(session, settings).authenticate(email, password)
        if len(email) <= 191 and len(password) <= 255
        else None
    )
    if user is None:
        left = await throttle.failed(email, ip)
        messages = [FAILED]
        if left == 1:
            messages.append(LAST_TRY.format(minutes=settings.login_window_minutes))
        elif left == 0:
            messages = [throttled_message(settings.login_window_minutes * 60)]
        return _login_page(request, values, {"email": messages}, 429 if left == 0 else 422)
    await throttle.succeeded(email)
    signed = await SessionService(session, settings).start(
        user, ip, request.headers.get("user-agent")
    )
    act_as(Actor("user", user.id, f"{user.name} <{user.email}>", ip))
    await note_everywhere(session, user, "user.signed_in", f"{user.email} signed in")
    return signed_in_response(request, signed, safe_next(data.get("next")))


def signed_in_response(request: Request, signed: SignedIn, target: str) -> Response:
    response = RedirectResponse(target, status_code=303)
    set_cookie(request, response, SESSION_COOKIE, signed.cookie)
    return response


@router.post("/logout", name="web.logout")
async def logout(request: Request) -> Response:
    signed = await viewer(request)
    if signed is not None:
        await SessionService(request.state.session, request.app.state.settings).end(signed.record)
        await note_everywhere(
            request.state.session, signed.user, "user.signed_out", f"{signed.user.email} signed out"
        )
    response = RedirectResponse("/app/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/app")
    flash.add(request, response, "You are signed out.", "info")
    return response


@router.get("/", name="web.home")
async def home(request: Request, signed: SignedIn = Depends(signed_in)) -> Response:
    workspaces = await MembershipRepository(request.state.session).workspaces_of(signed.user.id)
    if len(workspaces) == 1:
        return RedirectResponse(f"/app/{workspaces[0][0].subdomain}/contacts", status_code=303)
    return render(request, "auth/workspaces.html", {"workspaces": workspaces})


@workspace_home.get("/{subdomain}", name="web.workspace")
async def workspace(member: Member = Role("agent")) -> Response:
    return RedirectResponse(member.url("/contacts"), status_code=303)
