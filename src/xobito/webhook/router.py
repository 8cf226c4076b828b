"""Admin: webhook endpoints, secret rotation, test events, attempt logs, redelivery."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from xobito.admin.dependencies import operator
from xobito.api.routing import DatabaseRoute
from xobito.kit.body import json_body
from xobito.kit.openapi import route_doc
from xobito.kit.params import RecordId
from xobito.kit.responses import success
from xobito.webhook.schemas import EndpointCreate, EndpointUpdate, endpoint_record, log_record
from xobito.webhook.service import NOT_FOUND, WebhookService
from xobito.workspace.service import WorkspaceService

router = APIRouter(prefix="/workspaces/{subdomain}", tags=["admin"], route_class=DatabaseRoute)


async def service(request: Request, subdomain: str, session: AsyncSession) -> WebhookService:
    ws = await WorkspaceService(session).get(subdomain)
    return WebhookService(session, ws.id, request.app.state.settings)


@router.post(
    "/webhooks",
    status_code=201,
    name="admin.webhooks.store",
    openapi_extra=route_doc(failure="create webhook", body=EndpointCreate),
)
async def create(
    request: Request, subdomain: str, session: AsyncSession = Depends(operator)
) -> Response:
    endpoint, secret = await (await service(request, subdomain, session)).create(
        await json_body(request)
    )
    return success(endpoint_record(endpoint, secret), "Webhook created successfully", 201)


@router.get(
    "/webhooks", name="admin.webhooks.index", openapi_extra=route_doc(failure="list webhooks")
)
async def index(
    request: Request, subdomain: str, session: AsyncSession = Depends(operator)
) -> Response:
    endpoints = await (await service(request, subdomain, session)).list()
    return success([endpoint_record(e) for e in endpoints])


@router.patch(
    "/webhooks/{webhook_id}",
    name="admin.webhooks.update",
    openapi_extra=route_doc(failure="update webhook", not_found=NOT_FOUND, body=EndpointUpdate),
)
async def update(
    request: Request,
    subdomain: str,
    webhook_id: RecordId,
    session: AsyncSession = Depends(operator),
) -> Response:
    endpoint = await (await service(request, subdomain, session)).update(
        webhook_id, await json_body(request)
    )
    return success(endpoint_record(endpoint), "Webhook updated successfully")


@router.delete(
    "/webhooks/{webhook_id}",
    name="admin.webhooks.destroy",
    openapi_extra=route_doc(failure="delete webhook", not_found=NOT_FOUND),
)
async def destroy(
    request: Request,
    subdomain: str,
    webhook_id: RecordId,
    session: AsyncSession = Depends(operator),
) -> Response:
    await (await service(request, subdomain, session)).remove(webhook_id)
    return success(message="Webhook deleted successfully")


@router.post(
    "/webhooks/{webhook_id}/rotate-secret",
    name="admin.webhooks.rotate",
    openapi_extra=route_doc(failure="rotate webhook secret", not_found=NOT_FOUND),
)
async def rotate(
    request: Request,
    subdomain: str,
    webhook_id: RecordId,
    session: AsyncSession = Depends(operator),
) -> Response:
    endpoint, secret = await (await service(request, subdomain, session)).rotate(webhook_id)
    return success(endpoint_record(endpoint, secret), "Webhook secret rotated successfully")


@router.post(
    "/webhooks/{webhook_id}/test",
    status_code=202,
    name="admin.webhooks.test",
    openapi_extra=route_doc(failure="send test event", not_found=NOT_FOUND),
)
async def test(
    request: Request,
    subdomain: str,
    webhook_id: RecordId,
    session: AsyncSession = Depends(operator),
) -> Response:
    event_id = await (await service(request, subdomain, session)).test(webhook_id)
    return success({"event_id": event_id}, "Test event queued", 202)


@router.get(
    "/webhooks/{webhook_id}/logs",
    name="admin.webhooks.logs",
    openapi_extra=route_doc(failure="list webhook logs", not_found=NOT_FOUND),
)
async def logs(
    request: Request,
    subdomain: str,
    webhook_id: RecordId,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    session: AsyncSession = Depends(operator),
) -> Response:
    rows = await (await service(request, subdomain, session)).logs(webhook_id, limit, offset)
    return success([log_record(r) for r in rows])


@router.post(
    "/webhook-events/{event_id}/redeliver",
    status_code=202,
    name="admin.webhook_events.redeliver",
    openapi_extra=route_doc(failure="redeliver event", not_found="Webhook event not found"),
)
async def redeliver(
    request: Request,
    subdomain: str,
    event_id: Annotated[str, Path(max_length=64)],
    session: AsyncSession = Depends(operator),
) -> Response:
    count = await (await service(request, subdomain, session)).redeliver(event_id)
    return success({"event_id": event_id, "deliveries": count}, "Event queued for redelivery", 202)
