"""Admin endpoints for a workspace's API tokens."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from xobito.admin.dependencies import operator
from xobito.api.routing import DatabaseRoute
from xobito.auth.schemas import TokenCreate, token_record
from xobito.auth.service import TokenService
from xobito.kit.body import json_body
from xobito.kit.openapi import NEW_TOKEN, TOKEN, admin_responses, list_of, route_doc
from xobito.kit.params import RecordId
from xobito.kit.responses import success
from xobito.workspace.service import WorkspaceService

WS_NOT_FOUND = "Workspace not found"
router = APIRouter(
    prefix="/workspaces/{subdomain}/tokens", tags=["admin"], route_class=DatabaseRoute
)


@router.post(
    "",
    status_code=201,
    name="admin.tokens.store",
    openapi_extra=route_doc(
        failure="create token", not_found="Workspace not found", body=TokenCreate
    ),
    responses=admin_responses(
        201, data=NEW_TOKEN, message="Token created successfully", not_found=WS_NOT_FOUND, body=True
    ),
)
async def create_token(
    request: Request, subdomain: str, session: AsyncSession = Depends(operator)
) -> Response:
    ws = await WorkspaceService(session).get(subdomain)
    token, plaintext = await TokenService(session).create(ws, await json_body(request))
    return success(token_record(token, plaintext), "Token created successfully", 201)


@router.get(
    "",
    name="admin.tokens.index",
    openapi_extra=route_doc(failure="list tokens", not_found="Workspace not found"),
    responses=admin_responses(data=list_of(TOKEN), not_found=WS_NOT_FOUND),
)
async def list_tokens(subdomain: str, session: AsyncSession = Depends(operator)) -> Response:
    ws = await WorkspaceService(session).get(subdomain)
    return success([token_record(t) for t in await TokenService(session).list(ws)])


@router.delete(
    "/{token_id}",
    name="admin.tokens.destroy",
    openapi_extra=route_doc(failure="revoke token", not_found="Token not found"),
    responses=admin_responses(
        data=TOKEN,
        message="Token revoked successfully",
        not_found=(WS_NOT_FOUND, "Token not found"),
    ),
)
async def revoke_token(
    request: Request,
    subdomain: str,
    token_id: RecordId,
    session: AsyncSession = Depends(operator),
) -> Response:
    ws = await WorkspaceService(session).get(subdomain)
    token = await TokenService(session).revoke(ws, token_id)
    request.app.state.authenticator.tokens.clear()
    return success(token_record(token), "Token revoked successfully")
