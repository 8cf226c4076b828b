"""The first bytes of real files of each type WhatsApp accepts, and of some it does not."""

from __future__ import annotations

import io
import zipfile

OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _ooxml(part: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("_rels/.rels", "<Relationships/>")
        z.writestr(part, "<x/>")
    return out.getvalue()


def _ole2(sector: bytes, tail: bytes = b"") -> bytes:
    """A compound file: header sector, then ``sector`` (where Office puts its first stream)."""
    return OLE2 + b"\x00" * (512 - len(OLE2)) + sector + b"\x00" * (1024 - len(sector)) + tail


def _ftyp(major: bytes, *compatible: bytes) -> bytes:
    box = b"ftyp" + major + b"\x00\x00\x02\x00" + b"".join(compatible)
    return (len(box) + 4).to_bytes(4, "big") + box + b"\x00\x00\x00\x08free" + b"\x00" * 64


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00" + b"\x00" * 16
MP4 = _ftyp(b"isom", b"isom", b"iso2", b"avc1", b"mp41")
MP4_MP42 = _ftyp(b"mp42", b"mp42", b"isom")
THREE_GP = _ftyp(b"3gp4", b"3gp4", b"isom")
M4A = _ftyp(b"M4A ", b"M4A ", b"mp42", b"isom")
QUICKTIME = _ftyp(b"qt  ", b"qt  ")
AAC = b"\xff\xf1\x50\x80\x02\x1f\xfc" + b"\x00" * 64
AMR = b"#!AMR\n\x3c" + b"\x00" * 64
MP3 = b"ID3\x03\x00\x00\x00\x00\x00\x0a" + b"\x00" * 64
OGG = b"OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00" + b"\x00" * 14 + b"OpusHead" + b"\x00" * 32
FLAC = b"fLaC\x00\x00\x00\x22" + b"\x00" * 64
WEBM = b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01" + b"\x00" * 64
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"
TEXT = "Invoice 42\nTotal: 12,50 €\n".encode()
DOCX = _ooxml("word/document.xml")
XLSX = _ooxml("xl/workbook.xml")
PPTX = _ooxml("ppt/presentation.xml")
ZIP = _ooxml("notes.txt")
DOC = _ole2(b"\xec\xa5\xc1\x00")  # Word's file information block
XLS = _ole2(b"\x09\x08\x10\x00\x00\x06\x05\x00")  # a BIFF8 BOF record
PPT = _ole2(b"\xa0\x46\x1d\xf0")
# A Word file whose first sectors hold something else: known by its stream's name.
DOC_BY_STREAM = _ole2(b"\x01" * 16, "WordDocument\0".encode("utf-16-le"))
OLE2_OTHER = _ole2(b"\x01" * 16, "Contents\0".encode("utf-16-le"))
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00"
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 64
BINARY = bytes(range(256))
