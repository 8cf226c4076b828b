"""Send bodies (docs/api/messages.md) and the send response."""

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

    firstname: Str255 | None = Field(None, description="First name", examples=["Ada"])
    lastname: Str255 | None = Field(None, description="Last name", examples=["Lovelace"])
    email: Email | None = Field(None, description="Email address", examples=["ada@example.com"])
    country: Str255 | None = Field(None, description="Country name", examples=["United Kingdom"])
    assigned_id: Int32 | None = Field(None, description="Assigned user's id", examples=[1])
    groups: GroupNames | None = Field(  # the same bound as POST /contacts
        None, description="Comma-separated group names", examples=["vip, newsletter"]
    )


class ReplyButton(RequestModel):
    id: Annotated[str, Len(max=256)] = Field(
        description="Your id of the button, sent back in the customer's button_reply "
        "(unique within the message)",
        examples=["ok"],
    )
    title: Annotated[str, Len(max=20)] = Field(
        description="The button's label", examples=["Great"]
    )


class SendIn(RequestModel):
    """``POST /messages/send``: a free-form text, interactive (reply buttons) or cta_url
    message; needs an open 24-hour customer care window."""

    phone_number: PhoneE164 = Field(
        description="The recipient, E.164 (spaces, dashes and brackets are ignored)",
        examples=["+14155552671"],
    )
    message_body: Annotated[str, Len(max=4096)] = Field(
        description="The text of the message", examples=["Yes! It arrives tomorrow."]
    )
    message_type: Literal["text", "interactive", "cta_url"] = Field(
        "text",
        description="text; interactive (reply buttons, needs buttons); cta_url (a URL "
        "button, needs button_text and button_url)",
        examples=["interactive"],
    )
    header: Annotated[str, Len(max=60)] | None = Field(
        None, description="Text header (interactive and cta_url)", examples=["Order #10234"]
    )
    footer: Annotated[str, Len(max=60)] | None = Field(
        None, description="Footer text (interactive and cta_url)", examples=["Acme Inc."]
    )
    buttons: Annotated[list[ReplyButton], Field(min_length=1, max_length=3)] | None = Field(
        None,
        description="1 to 3 reply buttons; required for interactive",
        examples=[[{"id": "ok", "title": "Great"}, {"id": "call", "title": "Call me"}]],
    )
    button_text: Annotated[str, Len(max=20)] | None = Field(
        None, description="Label of the URL button; required for cta_url", examples=["Track"]
    )
    button_url: Url | None = Field(
        None,
        description="http(s) URL the button opens; required for cta_url",
        examples=["https://example.com/track/10234"],
    )
    contact: ContactIn | None = Field(
        None,
        description="Fields for the recipient's contact when it is created, or to update it",
    )


BOTH_BUTTON_KINDS = "A message may not carry both reply buttons and a URL button."


def send_rules(raw: Any, values: dict[str, Any]) -> Errors:
    """The cross-field rules of ``SendIn`` (docs/api/messages.md).

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
    """``POST /messages/media``: an image, document, video or audio message, by URL or as a
    multipart upload (media_file); needs an open 24-hour customer care window."""

    phone_number: Annotated[str, Len(max=32), _digits_between(10, 15)] = Field(
        description="The recipient: 10 to 15 digits once spaces, dashes, brackets and + are "
        "removed",
        examples=["+14155552671"],
    )
    media_type: MediaType = Field(
        description="image, document, video or audio (stickers are refused)",
        examples=["image"],
    )
    media_url: Url | None = Field(
        None,
        description="http(s) URL of the media; exactly one of media_url and media_file",
        examples=["https://example.com/images/order.jpg"],
    )
    caption: Annotated[str, Len(max=1024)] | None = Field(
        None,
        description="Caption (image, video and document only)",
        examples=["Your order, packed"],
    )
    filename: Str255 | None = Field(
        None, description="File name shown for a document", examples=["invoice-10234.pdf"]
    )
    contact: ContactIn | None = Field(
        None,
        description="Fields for the recipient's contact when it is created, or to update it",
    )


class TemplateIn(RequestModel):
    """``POST /messages/template``: an approved template with its variables filled in. As JSON,
    or as ``multipart/form-data`` to upload the header media (see ``TemplateForm``)."""

    phone_number: Annotated[str, Len(max=32), _digits_between(8, 15)] = Field(
        description="The recipient: 8 to 15 digits once spaces, dashes, brackets and the "
        "leading + are removed; stored in E.164.",
        examples=["+14155552671"],
    )
    template_name: Annotated[str, Len(max=512)] = Field(
        description="Name of an APPROVED template of this workspace (GET /templates; "
        "synchronised from Meta with `xobito template sync`).",
        examples=["order_update"],
    )
    template_language: Annotated[str, Len(min=2, max=10)] = Field(
        description="The template's language code, as Meta lists it; with the name it "
        "picks one template.",
        examples=["en_US"],
    )
    from_phone_number_id: Annotated[str, Len(max=64)] | None = Field(
        None,
        description="Which of the workspace's WhatsApp numbers sends (a Meta phone-number "
        "id); default: the primary number.",
        examples=["106540352242922"],
    )
    header_image_url: Url | None = Field(
        None,
        description="Image header by URL (http/https) for a template whose header format is "
        "IMAGE; or upload header_image_file instead.",
        examples=["https://example.com/images/order.jpg"],
    )
    header_video_url: Url | None = Field(
        None,
        description="Video header by URL for a VIDEO header; or upload header_video_file.",
        examples=["https://example.com/videos/welcome.mp4"],
    )
    header_document_url: Url | None = Field(
        None,
        description="Document header by URL for a DOCUMENT header; or upload "
        "header_document_file.",
        examples=["https://example.com/invoices/10234.pdf"],
    )
    header_document_name: Str255 | None = Field(
        None,
        description="File name WhatsApp shows for a document header.",
        examples=["invoice-10234.pdf"],
    )
    header_field_1: Annotated[str, Len(max=1024)] | None = Field(
        None,
        description="Value of the text header's variable {{1}}; required when the template's "
        "header_params_count is 1.",
        examples=["Order #10234"],
    )
    field_1: Annotated[str, Len(max=1024)] | None = Field(
        None,
        description="Body variable {{1}}. Give exactly the template's body_params_count "
        "fields, field_1 upwards.",
        examples=["Ada"],
    )
    field_2: Annotated[str, Len(max=1024)] | None = Field(
        None,
        description="Body variable {{2}}. Give exactly the template's body_params_count "
        "fields, field_1 upwards.",
        examples=["#10234"],
    )
    field_3: Annotated[str, Len(max=1024)] | None = Field(
        None,
        description="Body variable {{3}}. Give exactly the template's body_params_count "
        "fields, field_1 upwards.",
        examples=["tomorrow"],
    )
    field_4: Annotated[str, Len(max=1024)] | None = Field(
        None,
        description="Body variable {{4}}. Give exactly the template's body_params_count "
        "fields, field_1 upwards.",
        examples=["14:00"],
    )
    field_5: Annotated[str, Len(max=1024)] | None = Field(
        None,
        description="Body variable {{5}}. Give exactly the template's body_params_count "
        "fields, field_1 upwards.",
        examples=["Main St 1"],
    )
    field_6: Annotated[str, Len(max=1024)] | None = Field(
        None,
        description="Body variable {{6}}. Give exactly the template's body_params_count "
        "fields, field_1 upwards.",
        examples=["2"],
    )
    field_7: Annotated[str, Len(max=1024)] | None = Field(
        None,
        description="Body variable {{7}}. Give exactly the template's body_params_count "
        "fields, field_1 upwards.",
        examples=["EUR 49.90"],
    )
    field_8: Annotated[str, Len(max=1024)] | None = Field(
        None,
        description="Body variable {{8}}. Give exactly the template's body_params_count "
        "fields, field_1 upwards.",
        examples=["blue"],
    )
    field_9: Annotated[str, Len(max=1024)] | None = Field(
        None,
        description="Body variable {{9}}. Give exactly the template's body_params_count "
        "fields, field_1 upwards.",
        examples=["M"],
    )
    field_10: Annotated[str, Len(max=1024)] | None = Field(
        None,
        description="Body variable {{10}}. Give exactly the template's body_params_count "
        "fields, field_1 upwards.",
        examples=["ok"],
    )
    button_0: Annotated[str, Len(max=2000)] | None = Field(
        None,
        description="Dynamic value of the template's button at index 0: the URL suffix of a "
        "dynamic URL button, or the payload of a quick-reply button.",
        examples=["10234"],
    )
    button_1: Annotated[str, Len(max=2000)] | None = Field(
        None,
        description="Dynamic value of the template's button at index 1: the URL suffix of a "
        "dynamic URL button, or the payload of a quick-reply button.",
        examples=["yes"],
    )
    button_2: Annotated[str, Len(max=2000)] | None = Field(
        None,
        description="Dynamic value of the template's button at index 2: the URL suffix of a "
        "dynamic URL button, or the payload of a quick-reply button.",
        examples=["yes"],
    )
    button_3: Annotated[str, Len(max=2000)] | None = Field(
        None,
        description="Dynamic value of the template's button at index 3: the URL suffix of a "
        "dynamic URL button, or the payload of a quick-reply button.",
        examples=["yes"],
    )
    button_4: Annotated[str, Len(max=2000)] | None = Field(
        None,
        description="Dynamic value of the template's button at index 4: the URL suffix of a "
        "dynamic URL button, or the payload of a quick-reply button.",
        examples=["yes"],
    )
    button_5: Annotated[str, Len(max=2000)] | None = Field(
        None,
        description="Dynamic value of the template's button at index 5: the URL suffix of a "
        "dynamic URL button, or the payload of a quick-reply button.",
        examples=["yes"],
    )
    button_6: Annotated[str, Len(max=2000)] | None = Field(
        None,
        description="Dynamic value of the template's button at index 6: the URL suffix of a "
        "dynamic URL button, or the payload of a quick-reply button.",
        examples=["yes"],
    )
    button_7: Annotated[str, Len(max=2000)] | None = Field(
        None,
        description="Dynamic value of the template's button at index 7: the URL suffix of a "
        "dynamic URL button, or the payload of a quick-reply button.",
        examples=["yes"],
    )
    button_8: Annotated[str, Len(max=2000)] | None = Field(
        None,
        description="Dynamic value of the template's button at index 8: the URL suffix of a "
        "dynamic URL button, or the payload of a quick-reply button.",
        examples=["yes"],
    )
    button_9: Annotated[str, Len(max=2000)] | None = Field(
        None,
        description="Dynamic value of the template's button at index 9: the URL suffix of a "
        "dynamic URL button, or the payload of a quick-reply button.",
        examples=["yes"],
    )
    contact: ContactIn | None = Field(
        None,
        description="Fields for the recipient's contact, used when it is created (or to update "
        "it): firstname, lastname, email, country, assigned_id, groups.",
        examples=[{"firstname": "Ada", "lastname": "Lovelace", "groups": "vip"}],
    )

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
