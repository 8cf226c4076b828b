"""Simulated traffic enters through the inbox, exactly like Meta's webhooks."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any, Literal

import orjson
from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession

from xobito.connection.repository import ConnectionRepository
from xobito.inbound.repository import InboxRepository
from xobito.inbound.scope import Scope
from xobito.kit.errors import NotFound, ValidationFailed
from xobito.kit.validation import Len, RequestModel, Str255, require
from xobito.message.repository import MessageRepository
from xobito.message.schemas import PhoneE164, ReplyButton
from xobito.models import Workspace
from xobito.whatsapp.sandbox import SAMPLES, new_wamid, sandbox_media_id
from xobito.whatsapp.webhooks import inbound_payload, status_payload

NOT_SANDBOX = "This workspace is not in sandbox mode."
NO_AUDIO_CAPTION = "A voice note has no caption: leave text out with media type audio."


class InboundIn(RequestModel):
    phone_number: PhoneE164
    text: Annotated[str, Len(max=4096)] | None = None
    button_reply: ReplyButton | None = None
    profile_name: Str255 | None = None
    # A photo, a PDF, a video or a voice note from the customer (the sandbox serves a sample
    # file); ``text`` is its caption (a voice note has none, as at Meta).
    media_type: Literal["image", "document", "video", "audio"] | None = None


class StatusIn(RequestModel):
    message_id: Annotated[str, Len(max=255)]
    status: Literal["sent", "delivered", "read", "failed"]
    error_code: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = None


class SandboxService:
    def __init__(self, session: AsyncSession, workspace: Workspace) -> None:
        self.session = session
        self.workspace = workspace

    @property
    def _scope(self) -> Scope:
        """Simulated traffic speaks for this workspace only."""
        return Scope.of({self.workspace.id})

    async def _number(self) -> tuple[str, str]:
        conn = await ConnectionRepository(self.session).for_workspace(self.workspace.id)
        if conn is None or conn.provider != "sandbox" or not conn.primary_phone_number_id:
            raise ValidationFailed({"whatsapp": [NOT_SANDBOX]})
        return conn.waba_id or "", conn.primary_phone_number_id

    async def inbound(self, raw: Any) -> dict[str, Any]:
        data = require(InboundIn, raw)
        if data.text is None and data.button_reply is None and data.media_type is None:
            raise ValidationFailed(
                {"text": ["The text field is required when button reply is not present."]}
            )
        if data.media_type == "audio" and data.text is not None:
            raise ValidationFailed({"text": [NO_AUDIO_CAPTION]})
        waba_id, number = await self._number()
        wamid = new_wamid()
        wa_id = data.phone_number.lstrip("+")
        body = inbound_payload(
            waba_id=waba_id,
            phone_number_id=number,
            wamid=wamid,
            wa_id=wa_id,
            profile_name=data.profile_name or data.phone_number,
            text=data.text,
            button_reply=data.button_reply.model_dump() if data.button_reply else None,
            media=self._media(data),
        )
        await InboxRepository(self.session).add(orjson.dumps(body), self._scope)
        return {"message_id": wamid, "phone": data.phone_number}

    @staticmethod
    def _media(data: InboundIn) -> dict[str, Any] | None:
        if data.media_type is None:
            return None
        media_id = sandbox_media_id(data.media_type)
        _, mime, sample = SAMPLES[media_id[1]]
        found: dict[str, Any] = {"type": data.media_type, "id": media_id, "mime_type": mime}
        found["sha256"] = hashlib.sha256(sample).hexdigest()
        found["caption"] = data.text
        if data.media_type == "document":
            found["filename"] = "sample.pdf"
        if data.media_type == "audio":
            found["voice"] = True  # recorded in WhatsApp (Meta's webhook always says which)
        return found

    async def status(self, raw: Any) -> dict[str, Any]:
        data = require(StatusIn, raw)
        waba_id, number = await self._number()
        message = await MessageRepository(self.session, self.workspace.id).by_wamid(data.message_id)
        if message is None or message.direction != "outbound":
            raise NotFound("Message not found")
        body = status_payload(
            waba_id=waba_id,
            phone_number_id=number,
            wamid=data.message_id,
            status=data.status,
            recipient_id=message.phone.lstrip("+"),
            error_code=data.error_code,
        )
        await InboxRepository(self.session).add(orjson.dumps(body), self._scope)
        return {"message_id": data.message_id, "status": data.status}
