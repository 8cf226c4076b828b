"""Admin: connect a workspace to WhatsApp, read the connection (never its secrets)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from xobito.admin.dependencies import operator
from xobito.api.routing import DatabaseRoute
from xobito.connection.doctor import diagnose
from xobito.connection.repository import ConnectionRepository
from xobito.connection.schemas import ConnectIn, connection_record
from xobito.connection.service import ConnectionService
from xobito.kit.body import json_body
from xobito.kit.errors import NotFound
from xobito.kit.openapi import route_doc
from xobito.kit.responses import success
from xobito.workspace.service import WorkspaceService

router = APIRouter(
    prefix="/workspaces/{subdomain}/whatsapp", tags=["admin"], route_class=DatabaseRoute
)


@router.put(
    "",
    name="admin.whatsapp.connect",
    openapi_extra=route_doc(
        failure="connect WhatsApp", not_found="Workspace not found", body=ConnectIn
    ),
)
async def connect(
    request: Request, subdomain: str, session: AsyncSession = Depends(operator)
) -> Response:
    ws = await WorkspaceService(session).get(subdomain)
    conn = await ConnectionService(session).connect(ws, await json_body(request))
    request.app.state.authenticator.workspaces.clear()
    return success(connection_record(conn), "WhatsApp connected successfully")


@router.get(
    "",
    name="admin.whatsapp.show",
    openapi_extra=route_doc(
        failure="retrieve WhatsApp connection", not_found="Workspace not found"
    ),
)
async def show(subdomain: str, session: AsyncSession = Depends(operator)) -> Response:
    ws = await WorkspaceService(session).get(subdomain)
    conn = await ConnectionRepository(session).for_workspace(ws.id)
    if conn is None:
        raise NotFound("WhatsApp connection not found")
    return success(connection_record(conn))


@router.get(
    "/doctor",
    name="admin.whatsapp.doctor",
    openapi_extra=route_doc(failure="check WhatsApp connection", not_found="Workspace not found"),
)
async def doctor(
    request: Request, subdomain: str, session: AsyncSession = Depends(operator)
) -> Response:
    """Every check of the connection ("Check connection"): 200 with the report whatever it
    finds; ``data.status`` is ``error`` when something is wrong."""
    state = request.app.state
    await state.webhook_traffic.flush()  # this process's latest counts, before reading them
    ws = await WorkspaceService(session).get(subdomain)
    report = await diagnose(session, ws, state.providers, state.settings)
    return success(report.record(), "Connection checked")
