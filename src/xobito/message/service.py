"""Rules for sending (docs/api/messages.md): validation, recipient, care window, Meta, storage."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from xobito.campaign.pacing import Pacer
from xobito.connection.service import NOT_CONNECTED, ConnectionService, Link
from xobito.kit.errors import NotFound, ValidationFailed
from xobito.kit.multipart import FilePart
from xobito.kit.time import iso, utcnow
from xobito.kit.validation import merge, parse
from xobito.message.recipient import RecipientResolver, ensure_reachable
from xobito.message.repository import ChatRepository, MessageRepository
from xobito.message.schemas import (
    ContactIn,
    MediaIn,
    SendIn,
    TemplateIn,
    UploadedFile,
    send_rules,
)
from xobito.message.send_repository import Recipient, SendRepository
from xobito.message.sending import Creator, Reply, Sender, SendOutcome
from xobito.message.templating import (
    NOT_AVAILABLE,
    build_payload,
    check_variables,
    rendered_text,
)
from xobito.message.uploads import check_header_file, check_media_file
from xobito.template.repository import TemplateRepository
from xobito.whatsapp import payloads
from xobito.whatsapp.base import WhatsAppProvider
from xobito.workspace.schemas import WorkspaceInfo

CARE_WINDOW = timedelta(hours=24)
WINDOW_CLOSED = (
    "The 24-hour customer care window is closed for this recipient. "
    "Send an approved template instead."
)
STATUS_TEXTS = {
    "sent": "Message accepted by WhatsApp",
    "delivered": "Message delivered to recipient phone",
    "read": "Recipient opened/read the message",
    "failed": "Message delivery failed",
    "pending": "Message queued, not yet sent",
}


class MessageService:
    def __init__(
        self,
        session: AsyncSession,
        workspace: WorkspaceInfo,
        providers: dict[str, WhatsAppProvider],
        sandbox_delay: float = 1.0,
        *,
        reply: Reply | None = None,
        token_id: int | None = None,
        user_id: int | None = None,
        pacer: Pacer | None = None,
    ) -> None:
        """``reply``: the request's Idempotency-Key reservation and answer (see ``Reply``);
        ``token_id`` / ``user_id``: the API token or dashboard user asking; ``pacer``: the
        app's (campaigns on the sending number make room for the send)."""
        self.session = session
        self.workspace = workspace
        self.providers = providers
        self.recipients = RecipientResolver(session, workspace)
        self.chats = ChatRepository(session, workspace.id)
        self.sends = SendRepository(session, workspace.id)
        self.sender = Sender(
            session, workspace.id, sandbox_delay, reply=reply, token_id=token_id, user_id=user_id,
            pacer=pacer,
        )

    async def link(self, from_phone_number_id: str | None = None) -> Link:
        link = await ConnectionService(self.session).link(self.workspace.id, from_phone_number_id)
        if link is None:
            raise ValidationFailed({"whatsapp": [NOT_CONNECTED]})
        return link

    async def recipient(
        self, phone: str, given: ContactIn | None, *, care_window: bool = True
    ) -> Recipient:
        """The reachable contact for ``phone`` with its chat; or, for a number no contact has,
        a recipient without ids, whose contact ``created`` writes with the send's outcome.

        Without a ``contact`` object to apply, an existing contact and its chat take one
        query; anything else takes the resolver (update, plan limit, email).
        """
        found = await self.sends.recipient(phone) if given is None else None
        if found is None:
            contact = await self.recipients.find(phone, given)
            if contact is None:
                found = Recipient(None, phone, False, None, None, created=True)
            else:
                chat = await self.chats.for_contact(contact.id)
                found = Recipient(
                    contact.id,
                    contact.phone,
                    contact.is_opted_out,
                    chat.id if chat else None,
                    chat.last_inbound_at if chat else None,
                )
        ensure_reachable(found)
        if care_window:
            self.check_care_window(found)
        if found.chat_id is None and found.contact_id is not None:
            chat = await self.chats.ensure(found.contact_id)
            found = replace(found, chat_id=chat.id)
        return found

    def creator(self, recipient: Recipient, given: ContactIn | None) -> Creator | None:
        """For a recipient without a contact: what creates it (with its groups, its
        ``contacts.created`` event and its chat) in the transaction storing the send."""
        if recipient.contact_id is not None:
            return None

        async def create() -> Recipient:
            contact, created = await self.recipients.create(recipient.phone, given)
            chat = await self.chats.ensure(contact.id)
            return replace(
                recipient,
                contact_id=contact.id,
                is_opted_out=contact.is_opted_out,
                chat_id=chat.id,
                last_inbound_at=chat.last_inbound_at,
                created=created,
            )

        return create

    def check_care_window(self, recipient: Recipient) -> None:
        if not self.workspace.enforce_care_window:
            return
        last = recipient.last_inbound_at
        if last is None or utcnow() - last > CARE_WINDOW:
            raise ValidationFailed({"phone_number": [WINDOW_CLOSED]})

    async def send(self, raw: Any) -> SendOutcome:
        """``POST /messages/send``: text, interactive reply buttons, or a URL button."""
        data, errors, values = parse(SendIn, raw)
        rules = send_rules(raw, values)
        if errors or rules or data is None:
            raise ValidationFailed(merge(SendIn, errors, rules))
        link = await self.link()
        recipient = await self.recipient(data.phone_number, data.contact)
        to = data.phone_number
        if data.message_type == "interactive":
            buttons = [b.model_dump() for b in data.buttons or []]
            payload = payloads.interactive_buttons(
                to, data.message_body, buttons, header=data.header, footer=data.footer
            )
        elif data.message_type == "cta_url":
            payload = payloads.cta_url(
                to,
                data.message_body,
                str(data.button_text),
                str(data.button_url),
                header=data.header,
                footer=data.footer,
            )
        else:
            payload = payloads.text_message(to, data.message_body)
        return await self.sender.deliver(
            self.providers[link.provider],
            link,
            recipient,
            payload,
            data.message_type,
            data.message_body,
            create=self.creator(recipient, data.contact),
        )

    async def send_media(self, raw: Any, files: dict[str, FilePart] | None = None) -> SendOutcome:
        """``POST /messages/media``: by public URL or by an upload passed on to Meta."""
        files = files or {}
        data, errors, values = parse(MediaIn, raw)
        part = files.get("media_file")
        media_type = values.get("media_type")
        upload = None
        if "media_url" in values and values["media_url"] is not None and part is not None:
            errors["media_url"] = ["The media url field prohibits media file from being present."]
        elif values.get("media_url") is None and part is None and "media_url" not in errors:
            errors["media_url"] = [
                "The media url field is required when media file is not present."
            ]
        if part is not None and media_type is not None:
            upload = check_media_file(part, media_type, errors)
        if values.get("caption") is not None and media_type == "audio":
            errors["caption"] = ["The caption field is prohibited when media type is audio."]
        if values.get("filename") is not None and media_type not in (None, "document"):
            errors["filename"] = ["The filename field is prohibited unless media type is document."]
        if errors or data is None:
            raise ValidationFailed(merge(MediaIn, errors))
        link = await self.link()
        recipient = await self.recipient(data.phone_number, data.contact)
        provider = self.providers[link.provider]

        async def build() -> dict[str, Any]:
            media_id = None
            if upload is not None:
                media_id = await provider.upload_media(
                    link.info, upload.data, upload.mime_type, upload.filename
                )
            return payloads.media(
                data.phone_number,
                data.media_type,
                link=None if media_id else data.media_url,
                media_id=media_id,
                caption=data.caption,
                filename=data.filename,
            )

        return await self.sender.deliver(
            provider,
            link,
            recipient,
            build,
            data.media_type,
            data.caption,
            create=self.creator(recipient, data.contact),
        )

    async def send_template(
        self, raw: Any, parts: dict[str, FilePart] | None = None
    ) -> SendOutcome:
        """``POST /messages/template``; allowed outside the customer care window."""
        data, errors, values = parse(TemplateIn, raw)
        files: dict[str, UploadedFile] = {}
        given: set[str] = set()
        for medium in ("image", "video", "document"):
            part = (parts or {}).get(f"header_{medium}_file")
            if part is not None:
                given.add(medium)
                checked = check_header_file(part, medium, errors)
                if checked is not None:
                    files[medium] = checked
        template = None
        if "template_name" in values and "template_language" in values:
            template = await TemplateRepository(self.session, self.workspace.id).by_name(
                values["template_name"], values["template_language"]
            )
            if template is None or template.status != "APPROVED":
                errors.setdefault("template_name", []).append(NOT_AVAILABLE)
                template = None
        if data is not None and template is not None:
            errors.update(check_variables(template, data, given))
            link = await ConnectionService(self.session).link(
                self.workspace.id, data.from_phone_number_id
            )
            if (
                data.from_phone_number_id
                and link
                and (data.from_phone_number_id not in link.phone_number_ids)
            ):
                errors["from_phone_number_id"] = ["The selected from phone number id is invalid."]
        if errors or data is None or template is None:
            raise ValidationFailed(merge(TemplateIn, errors))
        link = await self.link(data.from_phone_number_id)
        recipient = await self.recipient(data.phone_number, data.contact, care_window=False)
        provider = self.providers[link.provider]

        async def build() -> dict[str, Any]:
            uploaded = {
                medium: await provider.upload_media(link.info, f.data, f.mime_type, f.filename)
                for medium, f in files.items()
            }
            return build_payload(template, data, data.phone_number, uploaded)

        return await self.sender.deliver(
            provider,
            link,
            recipient,
            build,
            "template",
            rendered_text(template, data),
            create=self.creator(recipient, data.contact),
        )

    async def status(self, wamid: str) -> dict[str, Any]:
        message = await MessageRepository(self.session, self.workspace.id).by_wamid(wamid)
        if message is None:
            raise NotFound("Message not found")
        last = max(
            t
            for t in (
                message.sent_at,
                message.delivered_at,
                message.read_at,
                message.failed_at,
                message.updated_at,
            )
            if t is not None
        )
        return {
            "message_id": message.wamid,
            "delivery_status": message.status,
            "error_message": message.error_message,
            "source": "chat",
            "last_updated": iso(last),
            "statuses": STATUS_TEXTS,
        }
