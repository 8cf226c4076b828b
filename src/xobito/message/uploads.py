"""Upload limits per endpoint and media type (spec §8.2, §8.3)."""

from __future__ import annotations

import mimetypes

from xobito.kit.multipart import FilePart
from xobito.kit.validation import Errors
from xobito.message.schemas import UploadedFile

MB = 1024 * 1024
# media type -> (max bytes, allowed MIME types or None for any)
MEDIA_LIMITS: dict[str, tuple[int, tuple[str, ...] | None]] = {
    "image": (5 * MB, ("image/jpeg", "image/png")),
    "video": (16 * MB, ("video/mp4", "video/3gpp")),
    "audio": (16 * MB, ("audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg")),
    "document": (100 * MB, None),
}
HEADER_LIMITS_KB = {"image": 5120, "video": 16384, "document": 102400}
LARGEST_UPLOAD = 100 * MB + MB  # the biggest file plus room for the other fields


def mime_of(part: FilePart) -> str:
    declared = part.content_type.split(";", 1)[0].strip().lower()
    if declared and declared != "application/octet-stream":
        return declared
    guessed, _ = mimetypes.guess_type(part.filename)
    return guessed or "application/octet-stream"


def check_media_file(part: FilePart, media_type: str, errors: Errors) -> UploadedFile | None:
    limit, allowed = MEDIA_LIMITS[media_type]
    mime = mime_of(part)
    if len(part.data) > limit:
        errors["media_file"] = [
            f"The media file may not be greater than {limit // 1024} kilobytes."
        ]
        return None
    if allowed is not None and mime not in allowed:
        kinds = ", ".join(a.split("/", 1)[1] for a in allowed)
        errors["media_file"] = [f"The media file must be a file of type: {kinds}."]
        return None
    return UploadedFile(part.data, mime, part.filename)


def check_header_file(part: FilePart, medium: str, errors: Errors) -> UploadedFile | None:
    limit_kb = HEADER_LIMITS_KB[medium]
    if len(part.data) > limit_kb * 1024:
        errors[part.field] = [
            f"The header {medium} file may not be greater than {limit_kb} kilobytes."
        ]
        return None
    return UploadedFile(part.data, mime_of(part), part.filename)
