"""Admin: Meta webhook forwards (create returns the secret once), their secret rotation,
test events and attempt logs. Redelivery is ``/webhook-events/{event_id}/redeliver``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from xobito.admin.dependencies import operator
from xobito.api.routing import DatabaseRoute
from xobito.kit.body import json_body
from xobito.kit.openapi import route_doc
from xobito.kit.params import RecordId
from xobito.kit.responses import success
from xobito.webhook.forward_schemas import ForwardCreate, ForwardUpdate, forward_record
from xobito.webhook.forward_service import FORWARD_NOT_FOUND, ForwardService
from xobito.webhook.schemas import log_record
from xobito.workspace.service import WorkspaceService

router = APIRouter(
    prefix="/workspaces/{subdomain}/meta-forwards", tags=["admin"], route_class=DatabaseRoute
)


async def service(request: Request, subdomain: str, session: AsyncSession) -> ForwardService:
    ws = await WorkspaceService(session).get(subdomain)
    return ForwardService(session, ws.id, request.app.state.settings)


@router.post(
    "",
    status_code=201,
    name="admin.meta_forwards.store",
    openapi_extra=route_doc(failure="create Meta forward", body=ForwardCreate),
)
async def create(
    request: Request, subdomain: str, session: AsyncSession = Depends(operator)
) -> Response:
    forward, secret = await (await service(request, subdomain, session)).create(
        await json_body(request)
    )
    return success(forward_record(forward, secret), "Meta forward created successfully", 201)


@router.get(
    "", name="admin.meta_forwards.index", openapi_extra=route_doc(failure="list Meta forwards")
)
async def index(
    request: Request, subdomain: str, session: AsyncSession = Depends(operator)
) -> Response:
    forwards = await (await service(request, subdomain, session)).list()
    return success([forward_record(f) for f in forwards])


@router.get(
    "/{forward_id}",
    name="admin.meta_forwards.show",
    openapi_extra=route_doc(failure="retrieve Meta forward", not_found=FORWARD_NOT_FOUND),
)
async def show(
    request: Request,
    subdomain: str,
    forward_id: RecordId,
    session: AsyncSession = Depends(operator),
) -> Response:
    forward = await (await service(request, subdomain, session)).get(forward_id)
    return success(forward_record(forward))


@router.patch(
    "/{forward_id}",
    name="admin.meta_forwards.update",
    openapi_extra=route_doc(
        failure="update Meta forward", not_found=FORWARD_NOT_FOUND, body=ForwardUpdate
    ),
)
async def update(
    request: Request,
    subdomain: str,
    forward_id: RecordId,
    session: AsyncSession = Depends(operator),
) -> Response:
    forward = await (await service(request, subdomain, session)).update(
        forward_id, await json_body(request)
    )
    return success(forward_record(forward), "Meta forward updated successfully")


@router.delete(
    "/{forward_id}",
    name="admin.meta_forwards.destroy",
    openapi_extra=route_doc(failure="delete Meta forward", not_found=FORWARD_NOT_FOUND),
)
async def destroy(
    request: Request,
    subdomain: str,
    forward_id: RecordId,
    session: AsyncSession = Depends(operator),
) -> Response:
    await (await service(request, subdomain, session)).remove(forward_id)
    return success(message="Meta forward deleted successfully")


@router.post(
    "/{forward_id}/rotate-secret",
    name="admin.meta_forwards.rotate",
    openapi_extra=route_doc(failure="rotate Meta forward secret", not_found=FORWARD_NOT_FOUND),
)
async def rotate(
    request: Request,
    subdomain: str,
    forward_id: RecordId,
    session: AsyncSession = Depends(operator),
) -> Response:
    forward, secret = await (await service(request, subdomain, session)).rotate(forward_id)
    return success(forward_record(forward, secret), "Meta forward secret rotated successfully")


@router.post(
    "/{forward_id}/test",
    status_code=202,
    name="admin.meta_forwards.test",
    openapi_extra=route_doc(failure="send test event", not_found=FORWARD_NOT_FOUND),
)
async def test(
    request: Request,
    subdomain: str,
    forward_id: RecordId,
    session: AsyncSession = Depends(operator),
) -> Response:
    event_id = await (await service(request, subdomain, session)).test(forward_id)
    return success({"event_id": event_id}, "Test event queued", 202)


@router.get(
    "/{forward_id}/logs",
    name="admin.meta_forwards.logs",
    openapi_extra=route_doc(failure="list Meta forward logs", not_found=FORWARD_NOT_FOUND),
)
async def logs(
    request: Request,
    subdomain: str,
    forward_id: RecordId,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    session: AsyncSession = Depends(operator),
) -> Response:
    rows = await (await service(request, subdomain, session)).logs(forward_id, limit, offset)
    return success([log_record(r) for r in rows])
