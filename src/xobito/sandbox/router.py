"""Admin: simulate a customer's message or a delivery status (sandbox workspaces only)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from xobito.admin.dependencies import operator
from xobito.api.routing import DatabaseRoute
from xobito.kit.body import json_body
from xobito.kit.openapi import route_doc
from xobito.kit.responses import success
from xobito.sandbox.service import InboundIn, SandboxService, StatusIn
from xobito.workspace.service import WorkspaceService

router = APIRouter(
    prefix="/workspaces/{subdomain}/sandbox", tags=["admin"], route_class=DatabaseRoute
)


@router.post(
    "/inbound",
    status_code=202,
    name="admin.sandbox.inbound",
    openapi_extra=route_doc(
        failure="simulate inbound message", not_found="Workspace not found", body=InboundIn
    ),
)
async def inbound(
    request: Request, subdomain: str, session: AsyncSession = Depends(operator)
) -> Response:
    ws = await WorkspaceService(session).get(subdomain)
    data = await SandboxService(session, ws).inbound(await json_body(request))
    request.app.state.wake_worker()
    return success(data, "Inbound message queued", 202)


@router.post(
    "/status",
    status_code=202,
    name="admin.sandbox.status",
    openapi_extra=route_doc(
        failure="simulate message status", not_found="Workspace not found", body=StatusIn
    ),
)
async def status(
    request: Request, subdomain: str, session: AsyncSession = Depends(operator)
) -> Response:
    ws = await WorkspaceService(session).get(subdomain)
    data = await SandboxService(session, ws).status(await json_body(request))
    request.app.state.wake_worker()
    return success(data, "Status queued", 202)
