"""Admin: pull a workspace's templates from Meta."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from xobito.admin.dependencies import operator
from xobito.api.routing import DatabaseRoute
from xobito.kit.openapi import route_doc
from xobito.kit.responses import success
from xobito.template.service import TemplateService
from xobito.workspace.service import WorkspaceService

router = APIRouter(
    prefix="/workspaces/{subdomain}/templates", tags=["admin"], route_class=DatabaseRoute
)


@router.post(
    "/sync",
    name="admin.templates.sync",
    openapi_extra=route_doc(failure="sync templates", not_found="Workspace not found"),
)
async def sync(
    request: Request, subdomain: str, session: AsyncSession = Depends(operator)
) -> Response:
    ws = await WorkspaceService(session).get(subdomain)
    counts = await TemplateService(session, ws.id).sync(request.app.state.providers)
    return success(counts, "Templates synchronised successfully")
