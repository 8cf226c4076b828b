"""``GET|POST /webhooks/whatsapp``: Meta's subscription check and webhook deliveries."""

from __future__ import annotations

import hmac
from typing import Annotated

import orjson
from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from xobito.api.routing import DatabaseRoute, PlainRoute
from xobito.connection.repository import ConnectionRepository
from xobito.kit.body import read_limited
from xobito.kit.errors import Forbidden, Unauthorized, ValidationFailed
from xobito.kit.openapi import route_doc
from xobito.kit.responses import success

router = APIRouter(prefix="/webhooks/whatsapp", tags=["webhooks"], route_class=DatabaseRoute)
MAX_WEBHOOK_BYTES = 3 * 1024 * 1024


@router.get(
    "",
    name="webhooks.whatsapp.verify",
    openapi_extra=route_doc(failure="verify webhook subscription"),
)
async def verify(
    request: Request,
    mode: Annotated[str | None, Query(alias="hub.mode")] = None,
    token: Annotated[str | None, Query(alias="hub.verify_token")] = None,
    challenge: Annotated[str | None, Query(alias="hub.challenge", max_length=1024)] = None,
) -> Response:
    if mode != "subscribe" or not token:
        raise Forbidden("Verification failed")
    app_token: str | None = request.app.state.settings.meta_verify_token
    ok = bool(app_token) and hmac.compare_digest(token.encode(), str(app_token).encode())
    if not ok and len(token) <= 255:  # connections' tokens are at most 255 characters
        ok = await ConnectionRepository(request.state.session).verify_token_matches(token)
    if not ok:
        raise Forbidden("Verification failed")
    return PlainTextResponse(challenge or "")


async def receive(request: Request) -> Response:
    """Verify the signature on the raw body, store it durably, answer 200; workers process.

    Accepted when signed with the app-level secret, or when each of the payload's routing
    keys reaches a workspace whose app secret signed it (``inbound.signing``). The body is
    in a committed inbox row before the 200 (``InboxWriter``: group commit), with the
    workspaces it may change.
    """
    body = await read_limited(request, MAX_WEBHOOK_BYTES)
    header = request.headers.get("x-hub-signature-256")
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        payload = None
    state = request.app.state
    app_secret: str | None = state.settings.meta_app_secret
    scope = None
    if header:
        scope = await state.webhook_signers.verify(body, header, payload, app_secret)
    if scope is None:
        # Counted for the numbers it names (the doctor's "wrong app secret"); not stored.
        state.webhook_traffic.rejected(payload)
        raise Unauthorized("Invalid signature")
    if not isinstance(payload, dict):
        raise ValidationFailed({"body": ["The request body must be valid JSON."]})
    await state.inbox_writer.add(body, scope)
    state.webhook_traffic.accepted(payload, scope)
    state.wake_worker()
    return success(message="Event received")


# Hit by every Meta delivery: no FastAPI dependency solving, no session per request.
router.add_api_route(
    "",
    receive,
    methods=["POST"],
    name="webhooks.whatsapp.receive",
    openapi_extra=route_doc(failure="receive webhook"),
    route_class_override=PlainRoute,
)
