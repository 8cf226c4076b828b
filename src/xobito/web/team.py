"""Settings → Team (owner and admin): the workspace's members and their roles, invitations
(a one-time link, shown once, valid for the configured days), removal and forced password
resets (a one-time link to hand over).

Everything goes through ``MemberService`` and ``InvitationService``, with the rules that keep
a workspace governable: only an owner changes an owner or gives the owner role, there is always
an owner, an admin resets only accounts that belong to this workspace alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from xobito.account.invitations import InvitationService
from xobito.account.members import MemberService
from xobito.account.router import base_url
from xobito.account.schemas import ROLES, rank
from xobito.api.routing import DatabaseRoute
from xobito.kit.errors import ValidationFailed
from xobito.kit.params import RecordId
from xobito.web.deps import Member, Role
from xobito.web.forms import form_data
from xobito.web.lists import Pagination, int_param, page_params
from xobito.web.render import redirect, render

ROLE = "admin"
router = APIRouter(prefix="/{subdomain}/settings/team", route_class=DatabaseRoute)
INVITES_PER_PAGE = 25
ROLE_HELP = {
    "agent": "Agent: inbox and contacts",
    "admin": "Admin: everything but ownership",
    "owner": "Owner: everything",
}


def _service(member: Member) -> MemberService:
    return MemberService(member.session, member.workspace.id, member.settings)


def _back(member: Member) -> str:
    return member.url("/settings/team")


async def _page(
    request: Request,
    member: Member,
    *,
    link: tuple[str, str, str] | None = None,  # (kind, for whom, url), shown once
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, list[str]] | None = None,
    status: int = 200,
) -> Response:
    page, per_page = page_params(request.query_params)
    rows, total = await _service(member).page(page, per_page)
    invitations = list(
        await InvitationService(member.session, member.settings).pending(member.workspace.id)
    )
    invites_page = int_param(request.query_params, "invites", high=100_000) or 1
    start = (invites_page - 1) * INVITES_PER_PAGE
    context = {
        "members": rows,
        "pager": Pagination(page, per_page, total),
        "invitations": invitations[start : start + INVITES_PER_PAGE],
        "invites_pager": Pagination(invites_page, INVITES_PER_PAGE, len(invitations)),
        "link": link,
        "values": values or {"role": "agent"},
        "errors": errors or {},
        "roles": [(r, ROLE_HELP[r]) for r in ROLES if rank(r) <= rank(member.role)],
        "all_roles": ROLES,
        "invitation_days": member.settings.invitation_days,
    }
    return render(
        request,
        "team/team.html",
        context,
        fragment={"members": "team/_members.html"},
        status_code=status,
    )


@router.get("", name="web.team")
async def team(request: Request, member: Member = Role(ROLE)) -> Response:
    return await _page(request, member)


@router.post("/invitations", name="web.team.invite")
async def invite(request: Request, member: Member = Role(ROLE)) -> Response:
    data = await form_data(request)
    try:
        invitation, secret = await InvitationService(member.session, member.settings).create(
            member.workspace.id, data, actor_role=member.role, invited_by=member.user.id
        )
    except ValidationFailed as exc:
        return await _page(request, member, values=data, errors=exc.errors, status=422)
    url = f"{base_url(request)}/app/invite/{secret}"
    link = ("invitation", f"{invitation.email} ({invitation.role})", url)
    return await _page(request, member, link=link, status=201)


@router.post("/invitations/{invitation_id}/revoke", name="web.team.revoke")
async def revoke(
    request: Request, invitation_id: RecordId, member: Member = Role(ROLE)
) -> Response:
    invitation = await InvitationService(member.session, member.settings).revoke(
        member.workspace.id, invitation_id
    )
    return redirect(request, _back(member), f"The invitation of {invitation.email} is revoked.")


@router.post("/{membership_id}/role", name="web.team.role")
async def change_role(
    request: Request, membership_id: RecordId, member: Member = Role(ROLE)
) -> Response:
    service = _service(member)
    _, user = await service.get(membership_id)
    data = await form_data(request)
    try:
        changed = await service.change_role(member.role, membership_id, {"role": data.get("role")})
    except ValidationFailed as exc:
        message = " ".join(m for ms in exc.errors.values() for m in ms)
        return redirect(request, _back(member), message, "error")
    return redirect(request, _back(member), f"{user.name} is now {changed.role}.")


@router.post("/{membership_id}/remove", name="web.team.remove")
async def remove(
    request: Request, membership_id: RecordId, member: Member = Role(ROLE)
) -> Response:
    try:
        user = await _service(member).remove(member.role, membership_id)
    except ValidationFailed as exc:
        message = " ".join(m for ms in exc.errors.values() for m in ms)
        return redirect(request, _back(member), message, "error")
    return redirect(request, _back(member), f"{user.name} was removed from the workspace.")


@router.post("/{membership_id}/reset", name="web.team.reset")
async def force_reset(
    request: Request, membership_id: RecordId, member: Member = Role(ROLE)
) -> Response:
    user, secret = await _service(member).force_reset(member.role, member.user.id, membership_id)
    link = ("reset", f"{user.name} <{user.email}>", f"{base_url(request)}/app/reset/{secret}")
    return await _page(request, member, link=link)
