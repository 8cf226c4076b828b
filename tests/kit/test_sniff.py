"""``kit.sniff``: a file's type from its bytes, for every type WhatsApp accepts."""

from __future__ import annotations

import pytest

from tests.message import media_samples as s
from xobito.kit.sniff import sniff

KNOWN = [
    (s.JPEG, "image/jpeg"),
    (s.PNG, "image/png"),
    (s.GIF, "image/gif"),
    (s.MP4, "video/mp4"),
    (s.MP4_MP42, "video/mp4"),
    (s.THREE_GP, "video/3gpp"),
    (s.M4A, "audio/mp4"),
    (s.AAC, "audio/aac"),
    (s.AMR, "audio/amr"),
    (s.MP3, "audio/mpeg"),
    (s.OGG, "audio/ogg"),
    (s.PDF, "application/pdf"),
    (s.TEXT, "text/plain"),
    (s.DOCX, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    (s.XLSX, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    (s.PPTX, "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    (s.DOC, "application/msword"),
    (s.XLS, "application/vnd.ms-excel"),
    (s.PPT, "application/vnd.ms-powerpoint"),
    (s.DOC_BY_STREAM, "application/msword"),
    (s.ZIP, "application/zip"),
    (s.QUICKTIME, "video/quicktime"),
    (s.EXE, "application/x-msdownload"),
    (s.ELF, "application/x-executable"),
]


@pytest.mark.parametrize(("data", "mime"), KNOWN, ids=[m for _, m in KNOWN])
def test_known_types(data: bytes, mime: str) -> None:
    assert sniff(data) == mime


@pytest.mark.parametrize(
    "data",
    [b"", s.BINARY, s.OLE2_OTHER, b"abc\x00def", b"\xff\xfe\xfd"],
    ids=["empty", "binary", "other-ole2", "nul", "not-utf8"],
)
def test_unrecognised_bytes_are_none(data: bytes) -> None:
    assert sniff(data) is None


def test_text_is_judged_on_its_start_even_if_cut_inside_a_character() -> None:
    data = b"a" * (64 * 1024 - 1) + "€".encode() + b"b" * 10
    assert sniff(data) == "text/plain"
