"""What an agent sends from the inbox: text (optionally replying to a message), reply
buttons, templates, media, internal notes, and Retry of a failed message.

Everything goes through ``MessageService`` (the API's rules: care window, opt-out, Meta's
errors stored with the failed attempt), made by the signed-in user (``user_id``), so the
message's timeline says who sent it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from xobito.campaign.pacing import Pacer
from xobito.kit.errors import NotFound, ValidationFailed
from xobito.kit.multipart import FilePart
from xobito.kit.validation import parse
from xobito.live.publish import publish
from xobito.message.schemas import SendIn
from xobito.message.sending import SendOutcome
from xobito.message.service import MessageService
from xobito.models import Chat, Contact, Message
from xobito.whatsapp import payloads
from xobito.whatsapp.base import WhatsAppProvider
from xobito.workspace.schemas import WorkspaceInfo

NOTE_MAX = 4096
NOTE_REQUIRED = "The note field is required."
NOTE_TOO_LONG = f"The note may not be greater than {NOTE_MAX} characters."
NOT_RETRYABLE = "Only a failed message can be sent again."
FREE_FORM = ("text", "interactive", "cta_url", "image", "video", "audio", "document")


class InboxSender:
    def __init__(
        self,
        session: AsyncSession,
        workspace: WorkspaceInfo,
        providers: dict[str, WhatsAppProvider],
        sandbox_delay: float,
        user_id: int,
        pacer: Pacer | None = None,
    ) -> None:
        self.session = session
        self.workspace = workspace
        self.user_id = user_id
        self.service = MessageService(
            session, workspace, providers, sandbox_delay, user_id=user_id, pacer=pacer
        )

    async def text(self, contact: Contact, body: str, reply_to: Message | None) -> SendOutcome:
        if reply_to is None or reply_to.wamid is None:
            return await self.service.send({"phone_number": contact.phone, "message_body": body})
        # A reply quotes the customer's message: Meta's ``context`` (the API has no field).
        _, errors, _ = parse(SendIn, {"phone_number": contact.phone, "message_body": body})
        if errors:
            raise ValidationFailed(errors)
        payload = payloads.text_message(contact.phone, body)
        payload["context"] = {"message_id": reply_to.wamid}
        return await self._deliver(contact.phone, payload, "text", body, care_window=True)

    async def buttons(self, contact: Contact, body: str, titles: list[str]) -> SendOutcome:
        buttons = [{"id": f"btn-{n}", "title": t} for n, t in enumerate(titles, start=1)]
        raw = {
            "phone_number": contact.phone,
            "message_body": body,
            "message_type": "interactive",
            "buttons": buttons,
        }
        return await self.service.send(raw)

    async def template(self, contact: Contact, fields: dict[str, Any]) -> SendOutcome:
        return await self.service.send_template({**fields, "phone_number": contact.phone})

    async def media(
        self, contact: Contact, media_type: str, upload: FilePart, caption: str | None
    ) -> SendOutcome:
        raw: dict[str, Any] = {"phone_number": contact.phone, "media_type": media_type}
        if caption:
            raw["caption"] = caption
        if media_type == "document":
            raw["filename"] = upload.filename[:255]
        return await self.service.send_media(raw, {"media_file": upload})

    async def retry(self, failed: Message) -> SendOutcome:
        """The failed message's own Graph request, sent again as a new message."""
        if failed.status != "failed" or failed.direction != "outbound" or not failed.payload:
            raise ValidationFailed({"message": [NOT_RETRYABLE]})
        return await self._deliver(
            failed.phone,
            dict(failed.payload),
            failed.type,
            failed.text,
            care_window=failed.type in FREE_FORM,
        )

    async def _deliver(
        self, phone: str, payload: dict[str, Any], kind: str, text: str | None, *, care_window: bool
    ) -> SendOutcome:
        link = await self.service.link()
        recipient = await self.service.recipient(phone, None, care_window=care_window)
        provider = self.service.providers[link.provider]
        return await self.service.sender.deliver(
            provider, link, recipient, payload, kind, text, create=None
        )

    async def note(self, chat: Chat, contact: Contact, text: str) -> Message:
        """An internal note: kept in the conversation, never sent."""
        body = text.strip()
        if not body:
            raise ValidationFailed({"note": [NOTE_REQUIRED]})
        if len(body) > NOTE_MAX:
            raise ValidationFailed({"note": [NOTE_TOO_LONG]})
        note = Message(
            workspace_id=self.workspace.id,
            chat_id=chat.id,
            contact_id=contact.id,
            direction="note",
            type="note",
            phone=contact.phone,
            text=body,
            status="note",
            user_id=self.user_id,
        )
        self.session.add(note)
        await self.session.flush()
        publish(self.session, self.workspace.id, "note", chat_id=chat.id, message_id=note)
        return note


def require_chat_message(message: Message | None, chat_id: int) -> Message:
    if message is None or message.chat_id != chat_id:
        raise NotFound("Message not found")
    return message
