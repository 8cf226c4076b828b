"""Upload limits per endpoint and media type (docs/api/messages.md).

A file's type is read from its bytes (``kit.sniff``), never from its name or the declared
``Content-Type``: an executable declared as ``image/jpeg`` is refused here, before anything
reaches Meta, and Meta is told the type the bytes are.
"""

from __future__ import annotations

from xobito.kit.multipart import FilePart
from xobito.kit.sniff import sniff
from xobito.kit.validation import Errors
from xobito.message.schemas import UploadedFile

MB = 1024 * 1024
# The types WhatsApp accepts per media kind, each with the name the 422 lists it by.
DOCUMENT_TYPES = {
    "application/pdf": "pdf",
    "text/plain": "txt",
    "application/msword": "doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.ms-excel": "xls",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.ms-powerpoint": "ppt",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
}
ALLOWED_TYPES: dict[str, dict[str, str]] = {
    "image": {"image/jpeg": "jpeg", "image/png": "png"},
    "video": {"video/mp4": "mp4", "video/3gpp": "3gpp"},
    "audio": {
        "audio/aac": "aac",
        "audio/amr": "amr",
        "audio/mpeg": "mpeg",
        "audio/mp4": "mp4",
        "audio/ogg": "ogg",
    },
    "document": DOCUMENT_TYPES,
}
# An MP4 container holding only sound is audio/mp4, whatever brand it carries.
AS_KIND = {("audio", "video/mp4"): "audio/mp4"}
MEDIA_LIMITS_KB = {"image": 5120, "video": 16384, "audio": 16384, "document": 102400}
HEADER_LIMITS_KB = {"image": 5120, "video": 16384, "document": 102400}
LARGEST_UPLOAD = 100 * MB + MB  # the biggest file plus room for the other fields


def detected_type(data: bytes, kind: str) -> str | None:
    """The MIME type of ``data`` when it is one ``kind`` allows, else ``None``."""
    found = sniff(data)
    if found is None:
        return None
    found = AS_KIND.get((kind, found), found)
    return found if found in ALLOWED_TYPES[kind] else None


def _check(
    part: FilePart, kind: str, limit_kb: int, attribute: str, errors: Errors
) -> UploadedFile | None:
    if len(part.data) > limit_kb * 1024:
        errors[part.field] = [f"The {attribute} may not be greater than {limit_kb} kilobytes."]
        return None
    mime = detected_type(part.data, kind)
    if mime is None:
        names = ", ".join(dict.fromkeys(ALLOWED_TYPES[kind].values()))
        errors[part.field] = [f"The {attribute} must be a file of type: {names}."]
        return None
    return UploadedFile(part.data, mime, part.filename)


def check_media_file(part: FilePart, media_type: str, errors: Errors) -> UploadedFile | None:
    return _check(part, media_type, MEDIA_LIMITS_KB[media_type], "media file", errors)


def check_header_file(part: FilePart, medium: str, errors: Errors) -> UploadedFile | None:
    return _check(part, medium, HEADER_LIMITS_KB[medium], f"header {medium} file", errors)
