"""``GET|POST /webhooks/whatsapp``: Meta's subscription check and webhook deliveries."""

from __future__ import annotations

import hmac
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query
from sqlalchemy.ext.asyncio import AsyncSession
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


def _changes(payload: Any) -> list[tuple[str, dict[str, Any]]]:
    """``(entry.id, change.value)`` of every well-formed change; anything else is skipped."""
    out: list[tuple[str, dict[str, Any]]] = []
    entries = payload.get("entry") if isinstance(payload, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        changes = entry.get("changes") if isinstance(entry, dict) else None
        for change in changes if isinstance(changes, list) else []:
            value = change.get("value") if isinstance(change, dict) else None
            if isinstance(value, dict):
                out.append((str(entry.get("id", "")), value))
    return out


async def _signers(session: AsyncSession, payload: Any) -> list[str | None]:
    """The app secret of every workspace the payload reaches (``None``: one has none).

    A change is routed by its ``metadata.phone_number_id``; a change without one (a
    template status update) reaches the workspaces connected to its WABA (``entry.id``).
    """
    repo = ConnectionRepository(session)
    workspaces: set[int] = set()
    for waba_id, value in _changes(payload):
        metadata = value.get("metadata")
        number = metadata.get("phone_number_id") if isinstance(metadata, dict) else None
        if number:
            owner = await repo.owner_of(str(number))
            if owner is not None:
                workspaces.add(owner)
        elif waba_id:
            workspaces.update(c.workspace_id for c in await repo.by_waba(waba_id))
    signers: list[str | None] = []
    for workspace_id in sorted(workspaces):
        conn = await repo.for_workspace(workspace_id)
        signers.append(conn.app_secret if conn is not None else None)
    return signers


@router.post(
    "", name="webhooks.whatsapp.receive", openapi_extra=route_doc(failure="receive webhook")
)
async def receive(request: Request) -> Response:
    """Verify the signature on the raw body, store it durably, answer 200; workers process.

    Accepted when signed with the app-level secret, or with a connection's app secret that
    is the secret of every workspace the payload reaches: one workspace's secret never lets
    a payload into another workspace.
    """
    body = await read_limited(request, MAX_WEBHOOK_BYTES)
    header = request.headers.get("x-hub-signature-256")
    if not header:
        raise Unauthorized("Invalid signature")
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        payload = None
    session = request.state.session
    app_secret: str | None = request.app.state.settings.meta_app_secret
    ok = bool(app_secret) and signature_matches(body, header, [str(app_secret)])
    if not ok:
        signers = await _signers(session, payload)
        ok = bool(signers) and all(
            secret is not None and signature_matches(body, header, [secret]) for secret in signers
        )
    if not ok:
        raise Unauthorized("Invalid signature")
    if not isinstance(payload, dict):
        raise ValidationFailed({"body": ["The request body must be valid JSON."]})
    await InboxRepository(session).add(body)
    request.app.state.wake_worker()
    return success(message="Event received")
