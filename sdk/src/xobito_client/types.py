"""Parameter types (``TypedDict``), shared by :class:`~xobito_client.Client` and
:class:`~xobito_client.AsyncClient`, so both check the same keyword arguments."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import IO, Literal, Required, TypeAlias, TypedDict

__all__ = [
    "ContactCreateParams",
    "ContactFilters",
    "ContactInfo",
    "ContactUpdateParams",
    "FileContent",
    "FileInput",
    "InteractiveOptions",
    "MediaOptions",
    "MediaType",
    "ReplyButton",
    "SendOptions",
    "TemplateOptions",
]

FileContent: TypeAlias = bytes | IO[bytes]
FileInput: TypeAlias = (
    bytes | os.PathLike[str] | IO[bytes] | tuple[str, FileContent] | tuple[str, FileContent, str]
)
"""A file to upload: bytes, a path, an open binary file, ``(filename, content)`` or
``(filename, content, content_type)``."""

MediaType: TypeAlias = Literal["image", "document", "video", "audio"]


class ContactCreateParams(TypedDict, total=False):
    firstname: Required[str]
    phone: Required[str]
    type: Required[Literal["lead", "customer"]]
    source_id: Required[int]
    status_id: Required[int]
    lastname: str | None
    email: str | None
    company: str | None
    description: str | None
    country_id: int | None
    assigned_id: int | None
    groups: str | Sequence[str] | None
    """Group names (a list, or a comma-separated string); missing groups are created."""
    zip: str | None
    city: str | None
    state: str | None
    address: str | None
    website: str | None


class ContactUpdateParams(TypedDict, total=False):
    """PUT replaces the given fields; ``groups``, when given, replaces the membership."""

    firstname: Required[str]
    lastname: Required[str]
    phone: Required[str]
    type: Required[Literal["lead", "customer"]]
    source_id: int | None
    status_id: int | None
    email: str | None
    company: str | None
    description: str | None
    country_id: int | None
    assigned_id: int | None
    groups: str | Sequence[str] | None
    zip: str | None
    city: str | None
    state: str | None
    address: str | None
    website: str | None


class ContactFilters(TypedDict, total=False):
    search: str
    type: Literal["lead", "customer", "guest"]
    status_id: int
    source_id: int
    group_id: int
    is_opted_out: bool


class ContactInfo(TypedDict, total=False):
    """Fields for the recipient's contact, used when a send creates or updates it."""

    firstname: str
    lastname: str
    email: str
    country: str
    assigned_id: int
    groups: str | Sequence[str]


class ReplyButton(TypedDict):
    id: str
    title: str


class SendOptions(TypedDict, total=False):
    contact: ContactInfo
    idempotency_key: str
    """Sent as ``Idempotency-Key``; generated once per call when not given."""


class InteractiveOptions(SendOptions, total=False):
    header: str
    footer: str


class MediaOptions(SendOptions, total=False):
    media_url: str
    file: FileInput
    """Uploaded as ``media_file`` (multipart); give either this or ``media_url``."""
    caption: str
    filename: str


class TemplateOptions(SendOptions, total=False):
    body_params: Sequence[str]
    """Values of ``{{1}}``, ``{{2}}``... in the body: sent as ``field_1``, ``field_2``..."""
    header_param: str
    """The text header's variable (``header_field_1``)."""
    button_params: Mapping[int, str] | Sequence[str | None]
    """Dynamic button values by button index (``button_0``...)."""
    from_phone_number_id: str
    header_image_url: str
    header_video_url: str
    header_document_url: str
    header_document_name: str
    header_image_file: FileInput
    header_video_file: FileInput
    header_document_file: FileInput
