"""What a file's bytes are (magic numbers), whatever its name or declared type says.

``filetype`` reads the signatures; the few it gets wrong or lacks for the types WhatsApp
accepts are read here first: ISO media files by their ``ftyp`` brand (its 3GPP matcher looks
at the wrong offset, and an MP4 whose brands it does not list is missed), legacy Office files
whose first sectors it does not recognise (by their stream names), and plain text, which has
no signature at all.
"""

from __future__ import annotations

import codecs
import re

import filetype

ISO_BOX = b"ftyp"
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Brands of ISO base media files that are MP4 (ISO/IEC 14496-12/14) rather than QuickTime.
MP4_BRANDS = frozenset(
    ("isom", "iso2", "iso3", "iso4", "iso5", "iso6", "mp41", "mp42", "avc1", "dash", "mmp4")
)
AUDIO_MP4_BRANDS = frozenset(("M4A ", "M4B "))
# Stream names (UTF-16LE in the compound file's directory) of Word, Excel and PowerPoint 97.
OLE2_STREAMS = (
    ("WordDocument", "application/msword"),
    ("Workbook", "application/vnd.ms-excel"),
    ("Book", "application/vnd.ms-excel"),
    ("PowerPoint Document", "application/vnd.ms-powerpoint"),
)
TEXT_PROBE = 64 * 1024
# Control characters other than tab, line feed, form feed and carriage return.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def sniff(data: bytes) -> str | None:
    """The MIME type ``data`` is, or ``None`` when its bytes say nothing we recognise."""
    if data[4:8] == ISO_BOX:
        media = _iso_media(data)
        if media is not None:
            return media
    found: str | None = filetype.guess_mime(data)
    if found is not None:
        return found
    return _ole2_office(data) if data.startswith(OLE2) else _plain_text(data)


def _iso_media(data: bytes) -> str | None:
    size = int.from_bytes(data[:4], "big")
    if size < 16 or size > len(data):
        return None
    major = data[8:12].decode("latin-1")
    brands = {major} | {data[i : i + 4].decode("latin-1") for i in range(16, size - 3, 4)}
    if major.startswith(("3gp", "3g2")):
        return "video/3gpp"
    if major in AUDIO_MP4_BRANDS:
        return "audio/mp4"
    if brands & MP4_BRANDS:
        return "video/mp4"
    return None


def _ole2_office(data: bytes) -> str | None:
    for name, mime in OLE2_STREAMS:
        # A directory entry is the name, NUL-terminated, in UTF-16LE.
        if (name + "\0").encode("utf-16-le") in data:
            return mime
    return None


def _plain_text(data: bytes) -> str | None:
    """UTF-8 (or ASCII) text without control characters, judged on its first 64 KiB."""
    if not data:
        return None
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        # Not final: the probe may end inside a multi-byte character.
        text = decoder.decode(data[:TEXT_PROBE], final=len(data) <= TEXT_PROBE)
    except UnicodeDecodeError:
        return None
    return None if CONTROL.search(text) else "text/plain"
