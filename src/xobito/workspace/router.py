"""Admin endpoints for workspaces."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from xobito.admin.dependencies import operator
from xobito.api.routing import DatabaseRoute
from xobito.kit.body import json_body
from xobito.kit.openapi import WORKSPACE, admin_responses, list_of, route_doc
from xobito.kit.responses import success
from xobito.workspace.schemas import WorkspaceCreate, WorkspaceUpdate, workspace_record
from xobito.workspace.service import WorkspaceService

router = APIRouter(prefix="/workspaces", tags=["admin"], route_class=DatabaseRoute)
NOT_FOUND = "Workspace not found"


@router.post(
    "",
    status_code=201,
    name="admin.workspaces.store",
    openapi_extra=route_doc(failure="create workspace", body=WorkspaceCreate),
    responses=admin_responses(
        201, data=WORKSPACE, message="Workspace created successfully", body=True
    ),
)
async def create_workspace(request: Request, session: AsyncSession = Depends(operator)) -> Response:
    ws = await WorkspaceService(session).create(await json_body(request))
    return success(workspace_record(ws), "Workspace created successfully", 201)


@router.get(
    "",
    name="admin.workspaces.index",
    openapi_extra=route_doc(failure="list workspaces"),
    responses=admin_responses(data=list_of(WORKSPACE)),
)
async def list_workspaces(session: AsyncSession = Depends(operator)) -> Response:
    return success([workspace_record(ws) for ws in await WorkspaceService(session).list()])


@router.get(
    "/{subdomain}",
    name="admin.workspaces.show",
    openapi_extra=route_doc(failure="retrieve workspace", not_found=NOT_FOUND),
    responses=admin_responses(data=WORKSPACE, not_found=NOT_FOUND),
)
async def show_workspace(subdomain: str, session: AsyncSession = Depends(operator)) -> Response:
    return success(workspace_record(await WorkspaceService(session).get(subdomain)))


@router.patch(
    "/{subdomain}",
    name="admin.workspaces.update",
    openapi_extra=route_doc(failure="update workspace", not_found=NOT_FOUND, body=WorkspaceUpdate),
    responses=admin_responses(
        data=WORKSPACE, message="Workspace updated successfully", not_found=NOT_FOUND, body=True
    ),
)
async def update_workspace(
    request: Request, subdomain: str, session: AsyncSession = Depends(operator)
) -> Response:
    ws = await WorkspaceService(session).update(subdomain, await json_body(request))
    request.app.state.authenticator.workspaces.clear()
    return success(workspace_record(ws), "Workspace updated successfully")
