"""``GET|POST /webhooks/whatsapp``: Meta's subscription check and webhook deliveries."""

from __future__ import annotations

import hmac
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from xobito.api.routing import DatabaseRoute
from xobito.connection.repository import ConnectionRepository
from xobito.inbound.repository import InboxRepository
from xobito.kit.body import read_limited
from xobito.kit.errors import Forbidden, Unauthorized, ValidationFailed
from xobito.kit.openapi import route_doc
from xobito.kit.responses import success
from xobito.whatsapp.webhooks import signature_matches

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
    token: Annotated[str | None, Query(alias="hub.verify_token", max_length=255)] = None,
    challenge: Annotated[str | None, Query(alias="hub.challenge", max_length=1024)] = None,
) -> Response:
    if mode != "subscribe" or not token:
        raise Forbidden("Verification failed")
    app_token: str | None = request.app.state.settings.meta_verify_token
    ok = bool(app_token) and hmac.compare_digest(token.encode(), str(app_token).encode())
    if not ok:
        ok = await ConnectionRepository(request.state.session).verify_token_matches(token)
    if not ok:
        raise Forbidden("Verification failed")
    return PlainTextResponse(challenge or "")


def _phone_number_ids(payload: Any) -> list[str]:
    ids: list[str] = []
    for entry in payload.get("entry") or [] if isinstance(payload, dict) else []:
        for change in (entry.get("changes") or []) if isinstance(entry, dict) else []:
            value = change.get("value") if isinstance(change, dict) else None
            metadata = value.get("metadata") if isinstance(value, dict) else None
            if isinstance(metadata, dict) and metadata.get("phone_number_id"):
                ids.append(str(metadata["phone_number_id"]))
    return ids


@router.post(
    "", name="webhooks.whatsapp.receive", openapi_extra=route_doc(failure="receive webhook")
)
async def receive(request: Request) -> Response:
    """Verify the signature on the raw body, store it durably, answer 200; workers process."""
    body = await read_limited(request, MAX_WEBHOOK_BYTES)
    header = request.headers.get("x-hub-signature-256")
    if not header:
        raise Unauthorized("Invalid signature")
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        payload = None
    session = request.state.session
    secrets = await ConnectionRepository(session).secrets_for(_phone_number_ids(payload))
    app_secret: str | None = request.app.state.settings.meta_app_secret
    if app_secret:
        secrets.append(app_secret)
    if not signature_matches(body, header, secrets):
        raise Unauthorized("Invalid signature")
    if not isinstance(payload, dict):
        raise ValidationFailed({"body": ["The request body must be valid JSON."]})
    await InboxRepository(session).add(body)
    request.app.state.wake_worker()
    return success(message="Event received")
