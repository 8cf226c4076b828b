"""Send bodies (spec §8.1-8.3) and the send response."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from xobito.contact.schemas import GroupNames
from xobito.kit.phone import to_e164
from xobito.kit.time import iso
from xobito.kit.validation import Email, Errors, Len, RequestModel, Str255, Url
from xobito.models import Message

if TYPE_CHECKING:
    from xobito.message.send_repository import OutboundMessage

Int32 = Annotated[int, Field(ge=-(2**31), le=2**31 - 1)]


def _e164(value: str) -> str:
    e164 = to_e164(value)
    if e164 is None:
        raise PydanticCustomError("format", "format")
    return e164


def _digits_between(lo: int, hi: int) -> Any:
    """``8-15 digits after removing +`` style rules, then E.164 normalisation."""

    def check(value: str) -> str:
        digits = re.sub(r"[\s\-().+]", "", value)
        if not digits.isdigit() or not lo <= len(digits) <= hi:
            raise PydanticCustomError(
                "message",
                "{message}",
                {"message": f"The phone number must be between {lo} and {hi} digits."},
            )
        return _e164(value)

    return AfterValidator(check)


PhoneE164 = Annotated[str, Len(max=32), AfterValidator(_e164)]


class ContactIn(RequestModel):
    """Fields used to create or update the recipient's contact."""

    firstname: Str255 | None = None
    lastname: Str255 | None = None
    email: Email | None = None
    country: Str255 | None = None
    assigned_id: Int32 | None = None
    groups: GroupNames | None = None  # the same bound as POST /contacts


class ReplyButton(RequestModel):
    id: Annotated[str, Len(max=256)]
    title: Annotated[str, Len(max=20)]


class SendIn(RequestModel):
    phone_number: PhoneE164
    message_body: Annotated[str, Len(max=4096)]
    message_type: Literal["text", "interactive", "cta_url"] = "text"
    header: Annotated[str, Len(max=60)] | None = None
    footer: Annotated[str, Len(max=60)] | None = None
    buttons: Annotated[list[ReplyButton], Field(min_length=1, max_length=3)] | None = None
    button_text: Annotated[str, Len(max=20)] | None = None
    button_url: Url | None = None
    contact: ContactIn | None = None


BOTH_BUTTON_KINDS = "A message may not carry both reply buttons and a URL button."


def send_rules(raw: Any, values: dict[str, Any]) -> Errors:
    """The cross-field rules of ``SendIn`` (spec §8.1).

    They look at the input itself (Laravel's ``required_if`` checks presence), so they are
    reported together with every other failing field instead of only once the rest is valid.
    """
    given: dict[str, Any] = raw if isinstance(raw, dict) else {}
    errors: Errors = {}
    kind = values.get("message_type", "text" if given.get("message_type") is None else None)
    if given.get("buttons") and (given.get("button_url") or given.get("button_text")):
        errors["buttons"] = [BOTH_BUTTON_KINDS]
    if kind == "interactive" and given.get("buttons") is None:
        errors["buttons"] = ["The buttons field is required when message type is interactive."]
    if kind == "cta_url":
        for name in ("button_text", "button_url"):
            if given.get(name) is None:
                attr = name.replace("_", " ")
                errors[name] = [f"The {attr} field is required when message type is cta_url."]
    seen: set[str] = set()
    for i, button in enumerate(values.get("buttons") or []):
        if button.id in seen:
            errors[f"buttons.{i}.id"] = [f"The buttons.{i}.id field has a duplicate value."]
        seen.add(button.id)
    return errors


MediaType = Literal["image", "document", "video", "audio"]


class MediaIn(RequestModel):
    phone_number: Annotated[str, Len(max=32), _digits_between(10, 15)]
    media_type: MediaType
    media_url: Url | None = None
    caption: Annotated[str, Len(max=1024)] | None = None
    filename: Str255 | None = None
    contact: ContactIn | None = None


class TemplateIn(RequestModel):
    phone_number: Annotated[str, Len(max=32), _digits_between(8, 15)]
    template_name: Annotated[str, Len(max=512)]
    template_language: Annotated[str, Len(min=2, max=10)]
    from_phone_number_id: Annotated[str, Len(max=64)] | None = None
    header_image_url: Url | None = None
    header_video_url: Url | None = None
    header_document_url: Url | None = None
    header_document_name: Str255 | None = None
    header_field_1: Annotated[str, Len(max=1024)] | None = None
    field_1: Annotated[str, Len(max=1024)] | None = None
    field_2: Annotated[str, Len(max=1024)] | None = None
    field_3: Annotated[str, Len(max=1024)] | None = None
    field_4: Annotated[str, Len(max=1024)] | None = None
    field_5: Annotated[str, Len(max=1024)] | None = None
    field_6: Annotated[str, Len(max=1024)] | None = None
    field_7: Annotated[str, Len(max=1024)] | None = None
    field_8: Annotated[str, Len(max=1024)] | None = None
    field_9: Annotated[str, Len(max=1024)] | None = None
    field_10: Annotated[str, Len(max=1024)] | None = None
    button_0: Annotated[str, Len(max=2000)] | None = None
    button_1: Annotated[str, Len(max=2000)] | None = None
    button_2: Annotated[str, Len(max=2000)] | None = None
    button_3: Annotated[str, Len(max=2000)] | None = None
    button_4: Annotated[str, Len(max=2000)] | None = None
    button_5: Annotated[str, Len(max=2000)] | None = None
    button_6: Annotated[str, Len(max=2000)] | None = None
    button_7: Annotated[str, Len(max=2000)] | None = None
    button_8: Annotated[str, Len(max=2000)] | None = None
    button_9: Annotated[str, Len(max=2000)] | None = None
    contact: ContactIn | None = None

    def body_fields(self) -> list[str | None]:
        return [getattr(self, f"field_{n}") for n in range(1, 11)]

    def button_values(self) -> list[str | None]:
        return [getattr(self, f"button_{n}") for n in range(10)]


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """A multipart upload, read and checked against its endpoint's limits."""

    data: bytes
    mime_type: str
    filename: str


class PhoneValidateIn(RequestModel):
    phone_number: Annotated[str, Len(max=64)]


def send_record(
    message: Message | OutboundMessage,
    *,
    contact_created: bool,
    whatsapp_response: dict[str, Any] | None,
) -> dict[str, Any]:
    return {
        "message_id": message.wamid,
        "contact_id": message.contact_id,
        "phone": message.phone,
        "message": message.text,
        "status": message.status,
        "sent_at": iso(message.sent_at),
        "chat_id": message.chat_id,
        "contact_created": contact_created,
        "whatsapp_response": whatsapp_response,
    }
