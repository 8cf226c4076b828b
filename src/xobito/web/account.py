"""The signed-in user's own account (name, password), and the pages reached by one-time links:
accepting an invitation, setting a password after a forced reset."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from xobito.account.invitations import InvitationService
from xobito.account.resets import PasswordResetService
from xobito.account.service import UserService
from xobito.account.sessions import SessionService, SignedIn
from xobito.activity.recorder import Actor, act_as
from xobito.api.routing import DatabaseRoute
from xobito.kit.errors import ValidationFailed
from xobito.kit.validation import RequestModel, Str255, require
from xobito.web import flash
from xobito.web.auth import signed_in_response
from xobito.web.deps import client_ip, signed_in, viewer
from xobito.web.forms import form_data
from xobito.web.render import render

router = APIRouter(route_class=DatabaseRoute)


class ProfileChange(RequestModel):
    name: Str255


def _account_page(
    request: Request,
    signed: SignedIn,
    *,
    profile: dict[str, Any] | None = None,
    password_errors: dict[str, list[str]] | None = None,
    profile_errors: dict[str, list[str]] | None = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        "account/account.html",
        {
            "user": signed.user,
            "profile": profile or {"name": signed.user.name},
            "profile_errors": profile_errors or {},
            "password_errors": password_errors or {},
        },
        status_code=status,
    )


@router.get("/account", name="web.account")
async def account(request: Request, signed: SignedIn = Depends(signed_in)) -> Response:
    return _account_page(request, signed)


@router.post("/account/profile", name="web.account.profile")
async def change_profile(request: Request, signed: SignedIn = Depends(signed_in)) -> Response:
    data = await form_data(request)
    try:
        change = require(ProfileChange, data)
    except ValidationFailed as exc:
        return _account_page(request, signed, profile=data, profile_errors=exc.errors, status=422)
    await UserService(request.state.session, request.app.state.settings).rename(
        signed.user, change.name
    )
    response = RedirectResponse("/app/account", status_code=303)
    flash.add(request, response, "Your name is saved.")
    return response


@router.post("/account/password", name="web.account.password")
async def change_password(request: Request, signed: SignedIn = Depends(signed_in)) -> Response:
    data = await form_data(request)
    service = UserService(request.state.session, request.app.state.settings)
    try:
        await service.change_password(signed.user, data, keep_session_id=signed.record.id)
    except ValidationFailed as exc:
        return _account_page(request, signed, password_errors=exc.errors, status=422)
    response = RedirectResponse("/app/account", status_code=303)
    flash.add(request, response, "Your password is changed. Your other sessions were signed out.")
    return response


# -- invitations ------------------------------------------------------------------------------


async def _invitation_page(
    request: Request,
    secret: str,
    values: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
    status: int = 200,
) -> Response:
    service = InvitationService(request.state.session, request.app.state.settings)
    invitation, workspace, existing = await service.find(secret)
    return render(
        request,
        "auth/invitation.html",
        {
            "invitation": invitation,
            "workspace": workspace,
            "existing": existing,
            "secret": secret,
            "values": values or {},
            "errors": errors or {},
        },
        status_code=status,
    )


@router.get("/invite/{secret}", name="web.invitation")
async def invitation(request: Request, secret: str) -> Response:
    await viewer(request)
    return await _invitation_page(request, secret)


@router.post("/invite/{secret}", name="web.invitation.accept")
async def accept_invitation(request: Request, secret: str) -> Response:
    settings = request.app.state.settings
    session = request.state.session
    service = InvitationService(session, settings)
    signed = await viewer(request)
    invitation, _, existing = await service.find(secret)
    if existing is not None:
        if signed is None or signed.user.id != existing.id:
            return RedirectResponse(f"/app/login?next=/app/invite/{secret}", status_code=303)
        workspace = await service.accept_existing(secret, signed.user)
        response = RedirectResponse(f"/app/{workspace.subdomain}/contacts", status_code=303)
        flash.add(request, response, f"You joined {workspace.name}.")
        return response
    data = await form_data(request)
    act_as(Actor("user", None, invitation.email, client_ip(request)))
    try:
        user, workspace = await service.accept_new(secret, data)
    except ValidationFailed as exc:
        return await _invitation_page(request, secret, data, exc.errors, 422)
    act_as(Actor("user", user.id, f"{user.name} <{user.email}>", client_ip(request)))
    if signed is not None:  # someone else was signed in on this browser
        await SessionService(session, settings).end(signed.record)
    started = await SessionService(session, settings).start(
        user, client_ip(request), request.headers.get("user-agent")
    )
    welcome = signed_in_response(request, started, f"/app/{workspace.subdomain}/contacts")
    flash.add(request, welcome, f"Welcome to {workspace.name}.")
    return welcome


# -- password reset ---------------------------------------------------------------------------


async def _reset_page(
    request: Request,
    secret: str,
    errors: dict[str, list[str]] | None = None,
    status: int = 200,
) -> Response:
    _, user = await PasswordResetService(request.state.session, request.app.state.settings).find(
        secret
    )
    return render(
        request,
        "auth/reset.html",
        {"user": user, "secret": secret, "errors": errors or {}},
        status_code=status,
    )


@router.get("/reset/{secret}", name="web.reset")
async def reset(request: Request, secret: str) -> Response:
    return await _reset_page(request, secret)


@router.post("/reset/{secret}", name="web.reset.submit")
async def complete_reset(request: Request, secret: str) -> Response:
    settings = request.app.state.settings
    session = request.state.session
    service = PasswordResetService(session, settings)
    _, user = await service.find(secret)
    act_as(Actor("user", user.id, f"{user.name} <{user.email}>", client_ip(request)))
    try:
        await service.complete(secret, await form_data(request))
    except ValidationFailed as exc:
        return await _reset_page(request, secret, exc.errors, 422)
    started = await SessionService(session, settings).start(
        user, client_ip(request), request.headers.get("user-agent")
    )
    response = signed_in_response(request, started, "/app/")
    flash.add(request, response, "Your new password is set.")
    return response
