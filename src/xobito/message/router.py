"""``/messages/...``: send text/interactive/cta_url, template and media; read a status."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from starlette.requests import Request
from starlette.responses import Response

from xobito.api.routing import DatabaseRoute
from xobito.auth.dependencies import Ability, ApiContext
from xobito.kit.body import json_body
from xobito.kit.multipart import FilePart, is_multipart, read_form
from xobito.kit.openapi import MESSAGE_STATUS, SENT_MESSAGE, api_responses, route_doc
from xobito.kit.responses import JSONResponse, success
from xobito.message.schemas import MediaIn, SendIn, TemplateIn
from xobito.message.sending import SendOutcome
from xobito.message.service import MessageService
from xobito.message.uploads import LARGEST_UPLOAD

router = APIRouter(prefix="/messages", tags=["messages"], route_class=DatabaseRoute)
SEND = "send message"


def service(request: Request, ctx: ApiContext) -> MessageService:
    state = request.app.state
    return MessageService(
        ctx.session,
        ctx.workspace,
        state.providers,
        state.settings.sandbox_status_delay_seconds,
        # An idempotent response is stored in the send's transaction (DatabaseRoute).
        commit_alone=getattr(request.state, "idempotency", None) is None,
    )


async def body_and_files(request: Request) -> tuple[Any, dict[str, FilePart]]:
    """A JSON body, or a multipart one with its uploads (template and media sends)."""
    if is_multipart(request):
        return await read_form(request, LARGEST_UPLOAD)
    return await json_body(request), {}


def answer(request: Request, outcome: SendOutcome, message: str) -> Response:
    if outcome.error is None:
        return success(outcome.record, message)
    # Meta refused: the failed attempt is kept (commit despite the 500), per spec §8.
    request.state.commit = True
    return JSONResponse(
        {
            "status": "error",
            "message": "Failed to send message",
            "errors": {"whatsapp": [outcome.error.describe()]},
        },
        status_code=500,
    )


@router.post(
    "/send",
    name="messages.send",
    openapi_extra=route_doc(failure=SEND, body=SendIn),
    responses=api_responses(data=SENT_MESSAGE, message="Message sent successfully", body=True),
)
async def send(request: Request, ctx: ApiContext = Ability("messages.send")) -> Response:
    outcome = await service(request, ctx).send(await json_body(request))
    return answer(request, outcome, "Message sent successfully")


@router.post(
    "/template",
    name="messages.template",
    openapi_extra=route_doc(
        failure=SEND, body=TemplateIn, multipart=TemplateIn, max_body=LARGEST_UPLOAD
    ),
    responses=api_responses(
        data=SENT_MESSAGE, message="Template message sent successfully", body=True
    ),
)
async def template(request: Request, ctx: ApiContext = Ability("messages.send")) -> Response:
    fields, files = await body_and_files(request)
    outcome = await service(request, ctx).send_template(fields, files)
    return answer(request, outcome, "Template message sent successfully")


@router.post(
    "/media",
    name="messages.media",
    openapi_extra=route_doc(failure=SEND, body=MediaIn, multipart=MediaIn, max_body=LARGEST_UPLOAD),
    responses=api_responses(
        data=SENT_MESSAGE, message="Media message sent successfully", body=True
    ),
)
async def media(request: Request, ctx: ApiContext = Ability("messages.send")) -> Response:
    fields, files = await body_and_files(request)
    outcome = await service(request, ctx).send_media(fields, files)
    return answer(request, outcome, "Media message sent successfully")


@router.get(
    # A wamid is base64 and may contain "/": let it span path segments.
    "/{message_id:path}/status",
    name="messages.status",
    openapi_extra=route_doc(failure="get message status", not_found="Message not found"),
    responses=api_responses(data=MESSAGE_STATUS, not_found="Message not found"),
)
async def status(
    message_id: Annotated[str, Path(max_length=255)],
    ctx: ApiContext = Ability("messages.send"),
) -> Response:
    return success(await MessageService(ctx.session, ctx.workspace, {}).status(message_id))
