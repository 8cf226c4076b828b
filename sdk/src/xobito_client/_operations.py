"""Every endpoint as an :class:`~xobito_client._core.Operation` builder (written once, used by
both clients): path, body and how to read the answer."""

from __future__ import annotations

import mimetypes
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Generic, TypeVar
from urllib.parse import quote

from pydantic import BaseModel

from xobito_client._core import FilePart, Operation
from xobito_client.models import MessageStatus, Page, PhoneValidation, SentMessage
from xobito_client.types import (
    ContactInfo,
    FileInput,
    InteractiveOptions,
    MediaOptions,
    ReplyButton,
    SendOptions,
    TemplateOptions,
)

M = TypeVar("M", bound=BaseModel)


def data_of(model: type[M]) -> Callable[[Any], M]:
    def parse(body: Any) -> M:
        return model.model_validate(body["data"])

    return parse


def page_of(model: type[M]) -> Callable[[Any], Page[M]]:
    page_model = Page[model]  # type: ignore[valid-type]

    def parse(body: Any) -> Page[M]:
        page: Page[M] = page_model.model_validate(body["data"])
        return page

    return parse


def nothing(body: Any) -> None:
    return None


def _id(record_id: int) -> str:
    return str(int(record_id))


class Crud(Generic[M]):
    """``/{plural}`` endpoints of one record type."""

    def __init__(self, plural: str, model: type[M]) -> None:
        self.path = f"/{plural}"
        self.model = model
        self._page = page_of(model)
        self._data = data_of(model)

    def list(
        self, page: int | None, per_page: int | None, filters: Mapping[str, Any] | None = None
    ) -> Operation[Page[M]]:
        params = {**(filters or {}), "page": page, "per_page": per_page}
        return Operation("GET", self.path, self._page, params=params)

    def get(self, record_id: int) -> Operation[M]:
        return Operation("GET", f"{self.path}/{_id(record_id)}", self._data)

    def create(self, body: Mapping[str, Any], idempotency_key: str | None) -> Operation[M]:
        return Operation("POST", self.path, self._data, json=body, idempotency_key=idempotency_key)

    def update(self, record_id: int, body: Mapping[str, Any]) -> Operation[M]:
        return Operation("PUT", f"{self.path}/{_id(record_id)}", self._data, json=body)

    def delete(self, record_id: int) -> Operation[None]:
        return Operation("DELETE", f"{self.path}/{_id(record_id)}", nothing)


def _groups(value: Any) -> Any:
    return value if value is None or isinstance(value, str) else ",".join(value)


def contact_body(params: Mapping[str, Any]) -> dict[str, Any]:
    body = dict(params)
    if "groups" in body:
        body["groups"] = _groups(body["groups"])
    return body


def status_body(name: str, color: str | None, isdefault: bool | None) -> dict[str, Any]:
    return _present({"name": name, "color": color, "isdefault": isdefault})


def _present(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


def _contact(info: ContactInfo | None) -> dict[str, Any] | None:
    if not info:
        return None
    body = dict(info)
    if "groups" in body:
        body["groups"] = _groups(body["groups"])
    return body


def _sent(body: Any) -> SentMessage:
    return SentMessage.model_validate(body["data"])


def _send(
    path: str,
    fields: dict[str, Any],
    options: SendOptions,
    files: list[FilePart] | None = None,
) -> Operation[SentMessage]:
    fields["contact"] = _contact(options.get("contact"))
    key = options.get("idempotency_key")
    if files:
        return Operation("POST", path, _sent, data=_form(fields), files=files, idempotency_key=key)
    return Operation("POST", path, _sent, json=_present(fields), idempotency_key=key)


def send_text(phone_number: str, message_body: str, options: SendOptions) -> Operation[SentMessage]:
    fields = {"phone_number": phone_number, "message_body": message_body, "message_type": "text"}
    return _send("/messages/send", fields, options)


def send_interactive(
    phone_number: str,
    message_body: str,
    buttons: list[ReplyButton],
    options: InteractiveOptions,
) -> Operation[SentMessage]:
    fields = {
        "phone_number": phone_number,
        "message_body": message_body,
        "message_type": "interactive",
        "buttons": [{"id": b["id"], "title": b["title"]} for b in buttons],
        "header": options.get("header"),
        "footer": options.get("footer"),
    }
    return _send("/messages/send", fields, options)


def send_cta_url(
    phone_number: str,
    message_body: str,
    button_text: str,
    button_url: str,
    options: InteractiveOptions,
) -> Operation[SentMessage]:
    fields = {
        "phone_number": phone_number,
        "message_body": message_body,
        "message_type": "cta_url",
        "button_text": button_text,
        "button_url": button_url,
        "header": options.get("header"),
        "footer": options.get("footer"),
    }
    return _send("/messages/send", fields, options)


def send_template(
    phone_number: str, template_name: str, template_language: str, options: TemplateOptions
) -> Operation[SentMessage]:
    fields: dict[str, Any] = {
        "phone_number": phone_number,
        "template_name": template_name,
        "template_language": template_language,
        "from_phone_number_id": options.get("from_phone_number_id"),
        "header_image_url": options.get("header_image_url"),
        "header_video_url": options.get("header_video_url"),
        "header_document_url": options.get("header_document_url"),
        "header_document_name": options.get("header_document_name"),
        "header_field_1": options.get("header_param"),
    }
    for n, param in enumerate(options.get("body_params") or (), start=1):
        fields[f"field_{n}"] = param
    buttons = options.get("button_params") or {}
    pairs = buttons.items() if isinstance(buttons, Mapping) else enumerate(buttons)
    for index, button in pairs:
        fields[f"button_{int(index)}"] = button
    uploads = {
        "header_image_file": options.get("header_image_file"),
        "header_video_file": options.get("header_video_file"),
        "header_document_file": options.get("header_document_file"),
    }
    files = [file_part(name, value) for name, value in uploads.items() if value is not None]
    return _send("/messages/template", fields, options, files)


def send_media(phone_number: str, media_type: str, options: MediaOptions) -> Operation[SentMessage]:
    fields = {
        "phone_number": phone_number,
        "media_type": media_type,
        "media_url": options.get("media_url"),
        "caption": options.get("caption"),
        "filename": options.get("filename"),
    }
    upload = options.get("file")
    files = [file_part("media_file", upload)] if upload is not None else None
    return _send("/messages/media", fields, options, files)


def message_status(message_id: str) -> Operation[MessageStatus]:
    # A wamid is base64 and may hold "/" or "+": percent-encode everything.
    path = f"/messages/{quote(message_id, safe='')}/status"
    return Operation("GET", path, data_of(MessageStatus))


def phone_validate(phone_number: str) -> Operation[PhoneValidation]:
    return Operation(
        "POST", "/phone/validate", data_of(PhoneValidation), json={"phone_number": phone_number}
    )


# ---- multipart -----------------------------------------------------------------------------


def _form(fields: Mapping[str, Any]) -> dict[str, str]:
    """Multipart fields; a nested object becomes ``name[key]`` fields (as Laravel reads them)."""
    out: dict[str, str] = {}
    for key, value in fields.items():
        if isinstance(value, Mapping):
            for sub, inner in value.items():
                if inner is not None:
                    out[f"{key}[{sub}]"] = _scalar(inner)
        elif value is not None:
            out[key] = _scalar(value)
    return out


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def file_part(field: str, value: FileInput) -> FilePart:
    """``(field, (filename, bytes, content_type))``; the type is guessed from the file name."""
    content_type: str | None = None
    name: str
    if isinstance(value, tuple):
        name, content = value[0], value[1]
        if len(value) == 3:
            content_type = value[2]
    elif isinstance(value, bytes):
        name, content = field, value
    elif isinstance(value, os.PathLike):
        path = Path(value)
        name, content = path.name, path.read_bytes()
    else:
        name, content = os.path.basename(str(getattr(value, "name", None) or field)), value
    data = content if isinstance(content, bytes) else content.read()
    if content_type is None:
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return field, (name, data, content_type)
