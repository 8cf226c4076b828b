"""Admin API for a workspace's dashboard users: accounts, roles, invitations, forced resets.

The operator acts with an owner's powers (it can make and change owners) but the same rules
otherwise: there is always an owner, and every change goes into the activity log.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from xobito.account.invitations import InvitationService
from xobito.account.members import NOT_FOUND as MEMBER_NOT_FOUND
from xobito.account.members import MemberService
from xobito.account.schemas import user_record
from xobito.account.service import UserService
from xobito.admin.dependencies import operator
from xobito.api.routing import DatabaseRoute
from xobito.kit.body import json_body
from xobito.kit.openapi import (
    FLAG,
    ID,
    TIMESTAMP,
    admin_responses,
    list_of,
    nullable,
    record,
    route_doc,
)
from xobito.kit.params import RecordId
from xobito.kit.responses import success
from xobito.kit.time import iso
from xobito.models import Invitation
from xobito.workspace.service import WorkspaceService

router = APIRouter(prefix="/workspaces/{subdomain}", tags=["admin"], route_class=DatabaseRoute)
WS_NOT_FOUND = "Workspace not found"
_STR: dict[str, Any] = {"type": "string"}
_ROLE: dict[str, Any] = {"type": "string", "enum": ["agent", "admin", "owner"]}
_USER_FIELDS: dict[str, Any] = {
    "id": ID,
    "email": _STR,
    "name": _STR,
    "last_sign_in_at": nullable(TIMESTAMP),
    "created_at": TIMESTAMP,
    "updated_at": TIMESTAMP,
    "tenant_id": ID,
    "role": _ROLE,
}
USER = record(**_USER_FIELDS)
NEW_USER = record(**_USER_FIELDS, password=nullable(_STR), existing_account=FLAG)
INVITATION = record(
    id=ID,
    tenant_id=ID,
    email=_STR,
    role=_ROLE,
    expires_at=TIMESTAMP,
    created_at=TIMESTAMP,
    url=_STR,
)
RESET = record(user_id=ID, email=_STR, url=_STR)


def base_url(request: Request) -> str:
    configured = request.app.state.settings.public_url
    return str(configured or request.base_url).rstrip("/")


def invitation_record(invitation: Invitation, url: str) -> dict[str, Any]:
    return {
        "id": invitation.id,
        "tenant_id": invitation.workspace_id,
        "email": invitation.email,
        "role": invitation.role,
        "expires_at": iso(invitation.expires_at),
        "created_at": iso(invitation.created_at),
        "url": url,
    }


@router.post(
    "/users",
    status_code=201,
    name="admin.users.store",
    openapi_extra=route_doc(failure="create user", not_found=WS_NOT_FOUND),
    responses=admin_responses(
        201, data=NEW_USER, message="User created successfully", not_found=WS_NOT_FOUND, body=True
    ),
)
async def create_user(
    request: Request, subdomain: str, session: AsyncSession = Depends(operator)
) -> Response:
    """A dashboard account with a role in the workspace. Without ``password`` one is
    generated and returned here, once. An email that already has an account is given the
    membership and keeps its password (``existing_account``: 1)."""
    ws = await WorkspaceService(session).get(subdomain)
    made = await UserService(session, request.app.state.settings).create(
        ws, await json_body(request)
    )
    body = user_record(made.user, made.membership) | {
        "password": made.generated_password,
        "existing_account": int(made.existing_account),
    }
    return success(body, "User created successfully", 201)


@router.get(
    "/users",
    name="admin.users.index",
    openapi_extra=route_doc(failure="list users", not_found=WS_NOT_FOUND),
    responses=admin_responses(data=list_of(USER), not_found=WS_NOT_FOUND),
)
async def list_users(
    request: Request, subdomain: str, session: AsyncSession = Depends(operator)
) -> Response:
    ws = await WorkspaceService(session).get(subdomain)
    rows, _ = await MemberService(session, ws.id, request.app.state.settings).page(1, 10_000)
    return success([user_record(u, m) for m, u in rows])


@router.patch(
    "/users/{user_id}",
    name="admin.users.update",
    openapi_extra=route_doc(failure="update user", not_found=MEMBER_NOT_FOUND),
    responses=admin_responses(
        data=USER,
        message="User updated successfully",
        not_found=(WS_NOT_FOUND, MEMBER_NOT_FOUND),
        body=True,
    ),
)
async def update_user(
    request: Request, subdomain: str, user_id: RecordId, session: AsyncSession = Depends(operator)
) -> Response:
    """Change the user's role in the workspace (``{"role": "admin"}``)."""
    ws = await WorkspaceService(session).get(subdomain)
    service = MemberService(session, ws.id, request.app.state.settings)
    membership = await service.of_user(user_id)
    membership = await service.change_role("owner", membership.id, await json_body(request))
    _, user = await service.get(membership.id)
    return success(user_record(user, membership), "User updated successfully")


@router.delete(
    "/users/{user_id}",
    name="admin.users.destroy",
    openapi_extra=route_doc(failure="remove user", not_found=MEMBER_NOT_FOUND),
    responses=admin_responses(
        message="User removed from the workspace", not_found=(WS_NOT_FOUND, MEMBER_NOT_FOUND)
    ),
)
async def remove_user(
    request: Request, subdomain: str, user_id: RecordId, session: AsyncSession = Depends(operator)
) -> Response:
    """Remove the user from the workspace (their account stays, with other memberships)."""
    ws = await WorkspaceService(session).get(subdomain)
    service = MemberService(session, ws.id, request.app.state.settings)
    membership = await service.of_user(user_id)
    await service.remove("owner", membership.id)
    return success(message="User removed from the workspace")


@router.post(
    "/users/{user_id}/password-reset",
    name="admin.users.reset",
    openapi_extra=route_doc(failure="reset password", not_found=MEMBER_NOT_FOUND),
    responses=admin_responses(
        data=RESET,
        message="Password reset; hand the link to the user",
        not_found=(WS_NOT_FOUND, MEMBER_NOT_FOUND),
    ),
)
async def reset_password(
    request: Request, subdomain: str, user_id: RecordId, session: AsyncSession = Depends(operator)
) -> Response:
    """Forced reset: the password stops working, every session ends, and the one-time link
    returned here (shown once) lets the user choose a new one."""
    ws = await WorkspaceService(session).get(subdomain)
    service = MemberService(session, ws.id, request.app.state.settings)
    membership = await service.of_user(user_id)
    user, secret = await service.force_reset("owner", None, membership.id)
    body = {
        "user_id": user.id,
        "email": user.email,
        "url": f"{base_url(request)}/app/reset/{secret}",
    }
    return success(body, "Password reset; hand the link to the user")


@router.post(
    "/invitations",
    status_code=201,
    name="admin.invitations.store",
    openapi_extra=route_doc(failure="create invitation", not_found=WS_NOT_FOUND),
    responses=admin_responses(
        201,
        data=INVITATION,
        message="Invitation created successfully",
        not_found=WS_NOT_FOUND,
        body=True,
    ),
)
async def create_invitation(
    request: Request, subdomain: str, session: AsyncSession = Depends(operator)
) -> Response:
    """A one-time invitation link (``{"email", "role"}``), valid for 7 days, shown once."""
    ws = await WorkspaceService(session).get(subdomain)
    invitation, secret = await InvitationService(session, request.app.state.settings).create(
        ws.id, await json_body(request), actor_role="owner", invited_by=None
    )
    url = f"{base_url(request)}/app/invite/{secret}"
    return success(invitation_record(invitation, url), "Invitation created successfully", 201)
