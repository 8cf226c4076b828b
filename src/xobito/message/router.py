"""``/messages/...``: send text/interactive/cta_url, template and media; read a status."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from starlette.requests import Request
from starlette.responses import Response

from xobito.api.routing import DatabaseRoute
from xobito.auth.dependencies import Ability, ApiContext
from xobito.chat.schemas import TIMELINE
from xobito.chat.timeline import TimelineService, message_key
from xobito.idempotency.service import Reservation
from xobito.kit.body import json_body
from xobito.kit.multipart import FilePart, is_multipart, read_form
from xobito.kit.openapi import MESSAGE_STATUS, SENT_MESSAGE, api_responses, route_doc
from xobito.kit.responses import JSONResponse, success
from xobito.message.schemas import MediaIn, SendIn, TemplateIn
from xobito.message.sending import Reply, SendOutcome
from xobito.message.service import MessageService
from xobito.message.uploads import LARGEST_UPLOAD

router = APIRouter(prefix="/messages", tags=["messages"], route_class=DatabaseRoute)
SEND = "send message"
SENT = "Message sent successfully"
TEMPLATE_SENT = "Template message sent successfully"
MEDIA_SENT = "Media message sent successfully"


def service(request: Request, ctx: ApiContext, success_message: str) -> MessageService:
    state = request.app.state
    reservation: Reservation | None = getattr(request.state, "idempotency", None)
    reply = None
    if reservation is not None:
        reply = Reply(reservation, lambda outcome: render(outcome, success_message))
    return MessageService(
        ctx.session,
        ctx.workspace,
        state.providers,
        state.settings.sandbox_status_delay_seconds,
        reply=reply,
        token_id=ctx.token.id,
        pacer=state.pacer,
    )


async def body_and_files(request: Request) -> tuple[Any, dict[str, FilePart]]:
    """A JSON body, or a multipart one with its uploads (template and media sends)."""
    if is_multipart(request):
        return await read_form(request, LARGEST_UPLOAD)
    return await json_body(request), {}


def render(outcome: SendOutcome, success_message: str) -> tuple[int, bytes]:
    """The answer to a send: 200 with the record, or 500 with Meta's reason
    (docs/api/messages.md)."""
    if outcome.error is None:
        response = success(outcome.record, success_message)
    else:
        response = JSONResponse(
            {
                "status": "error",
                "message": "Failed to send message",
                "errors": {"whatsapp": [outcome.error.describe()]},
            },
            status_code=500,
        )
    return response.status_code, bytes(response.body)


def answer(request: Request, outcome: SendOutcome, success_message: str) -> Response:
    status, body = outcome.stored_reply or render(outcome, success_message)
    if outcome.stored_reply is not None:
        request.state.idempotency = None  # already stored with the send (DatabaseRoute)
    if outcome.error is not None:
        # Meta refused: the failed attempt is kept (commit despite the 500), per
        # docs/api/messages.md;
        # the send's write may be in the request's transaction.
        request.state.commit = True
    return Response(body, status_code=status, media_type="application/json")


@router.post(
    "/send",
    name="messages.send",
    openapi_extra=route_doc(failure=SEND, body=SendIn),
    responses=api_responses(data=SENT_MESSAGE, message="Message sent successfully", body=True),
)
async def send(request: Request, ctx: ApiContext = Ability("messages.send")) -> Response:
    outcome = await service(request, ctx, SENT).send(await json_body(request))
    return answer(request, outcome, SENT)


@router.post(
    "/template",
    name="messages.template",
    openapi_extra=route_doc(
        failure=SEND,
        body=TemplateIn,
        multipart=TemplateIn,
        max_body=LARGEST_UPLOAD,
        files={
            "header_image_file": "Image header upload (JPEG or PNG, at most 5120 KB); sent to "
            "Meta's media endpoint first. Instead of header_image_url.",
            "header_video_file": "Video header upload (MP4 or 3GPP, at most 16384 KB). Instead "
            "of header_video_url.",
            "header_document_file": "Document header upload (PDF, Office, text; at most 102400 "
            "KB). Instead of header_document_url.",
        },
    ),
    responses=api_responses(
        data=SENT_MESSAGE, message="Template message sent successfully", body=True
    ),
)
async def template(request: Request, ctx: ApiContext = Ability("messages.send")) -> Response:
    fields, files = await body_and_files(request)
    outcome = await service(request, ctx, TEMPLATE_SENT).send_template(fields, files)
    return answer(request, outcome, TEMPLATE_SENT)


@router.post(
    "/media",
    name="messages.media",
    openapi_extra=route_doc(
        failure=SEND,
        body=MediaIn,
        multipart=MediaIn,
        max_body=LARGEST_UPLOAD,
        files={
            "media_file": "The file, instead of media_url: image 5 MB (JPEG, PNG), video 16 MB "
            "(MP4, 3GPP), audio 16 MB (AAC, AMR, MPEG, MP4, OGG), document 100 MB.",
        },
    ),
    responses=api_responses(
        data=SENT_MESSAGE, message="Media message sent successfully", body=True
    ),
)
async def media(request: Request, ctx: ApiContext = Ability("messages.send")) -> Response:
    fields, files = await body_and_files(request)
    outcome = await service(request, ctx, MEDIA_SENT).send_media(fields, files)
    return answer(request, outcome, MEDIA_SENT)


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


@router.get(
    "/{message_id:path}/timeline",
    name="messages.timeline",
    openapi_extra=route_doc(failure="get message timeline", not_found="Message not found"),
    responses=api_responses(data=TIMELINE, not_found="Message not found"),
)
async def timeline(
    message_id: Annotated[
        str, Path(max_length=255, description="The wamid, or our id (a refused send has no wamid)")
    ],
    ctx: ApiContext = Ability("messages.send"),
) -> Response:
    """Everything that happened to a message, in order (beyond Xobito v1)."""
    service = TimelineService(ctx.session, ctx.workspace.id)
    return success(await service.record(message_key(message_id)))
