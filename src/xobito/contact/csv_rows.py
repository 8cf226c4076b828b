"""Reading a contacts CSV: records with their line numbers, mapped onto contact fields.

The file is read as bytes, one physical line at a time, and handed to the ``csv`` module, so
each record is known by the line it starts on (what a person sees in a spreadsheet or an
editor) and by the byte offset just after it: an import can stop after any record and carry
on from there later (``CsvSource.records(start=...)``). Memory stays constant whatever the
file's size. The first line is the header; a UTF-8 byte-order mark (Excel writes one) is
skipped.

Cells are cleaned as the API cleans JSON bodies (trimmed; empty means "not given"), and a
cell that was escaped against spreadsheet formula injection on export (``'=...``) is read
back unescaped (see ``contact.exporting``).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from xobito.kit.errors import ValidationFailed

BOM = b"\xef\xbb\xbf"
# The contact fields a CSV may fill, in the API's order (docs/api/contacts.md create body).
FIELDS = (
    "firstname",
    "lastname",
    "phone",
    "email",
    "type",
    "source_id",
    "status_id",
    "groups",
    "company",
    "description",
    "country_id",
    "assigned_id",
    "zip",
    "city",
    "state",
    "address",
    "website",
)
REQUIRED = ("firstname", "phone", "type", "source_id", "status_id")
# Exported cells that could start a spreadsheet formula are prefixed with ``'``.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Python's default (128 KiB) is below what a description may hold; 1 MiB per cell.
csv.field_size_limit(1024 * 1024)


class CsvUnreadable(ValidationFailed):
    """The file as a whole cannot be imported (not UTF-8, no header, a bad mapping)."""

    def __init__(self, message: str) -> None:
        super().__init__({"file": [message]})
        self.reason = message


@dataclass(frozen=True, slots=True)
class Start:
    """Where reading resumes: the byte offset of a record and the line it starts on."""

    offset: int
    line: int


@dataclass(frozen=True, slots=True)
class Record:
    """One CSV record: the line it starts on, the contact fields it gives (cleaned), where
    the next record starts, and a reason when the record itself is malformed."""

    line: int
    values: dict[str, Any]
    after: Start
    problem: str | None = None


def normalise_header(name: str) -> str:
    """``"First Name"``, ``"first_name"`` and ``"FIRSTNAME"`` all name ``firstname``."""
    return "".join(ch for ch in name.strip().lower() if ch.isalnum())


_BY_NORMALISED = {normalise_header(f): f for f in FIELDS}


@dataclass
class ColumnMapping:
    """Which CSV column fills which contact field, and constant values for the rest.

    ``columns`` maps a header (as written in the file) to a field; headers left out are
    matched by name (``First Name`` → ``firstname``) unless mapped to ``None`` (ignored).
    ``defaults`` fill a field for every row whose cell is empty or that has no column for it
    (e.g. one ``status_id`` for the whole file).
    """

    columns: Mapping[str, str | None] = field(default_factory=dict)
    defaults: Mapping[str, Any] = field(default_factory=dict)

    def resolve(self, header: list[str]) -> dict[int, str]:
        """Column index → field, checking the mapping against the header."""
        problems: list[str] = []
        for name, target in self.columns.items():
            if name not in header:
                problems.append(f"The column {name} is not in the file.")
            if target is not None and target not in FIELDS:
                problems.append(f"The field {target} is not a contact field.")
        for target in self.defaults:
            if target not in FIELDS:
                problems.append(f"The field {target} is not a contact field.")
        by_index: dict[int, str] = {}
        for i, name in enumerate(header):
            if name in self.columns:
                target = self.columns[name]
            else:
                target = _BY_NORMALISED.get(normalise_header(name))
            if target is None:
                continue
            if target in by_index.values():
                problems.append(f"More than one column fills the field {target}.")
                continue
            by_index[i] = target
        if problems:
            raise CsvUnreadable(" ".join(dict.fromkeys(problems)))
        return by_index

    def missing_required(self, by_index: dict[int, str]) -> list[str]:
        given = set(by_index.values()) | set(self.defaults)
        return [f for f in REQUIRED if f not in given]


def clean_cell(value: str) -> str | None:
    """Trimmed, empty as ``None``, a formula escape (``'=``) removed."""
    text = value.strip()
    if not text:
        return None
    if text[0] == "'" and len(text) > 1 and text[1] in FORMULA_START:
        return text[1:]
    return text


class CsvSource:
    """A CSV file of contacts: its header and its records, from the start or an offset."""

    def __init__(
        self, stream: BinaryIO, mapping: ColumnMapping | None = None, *, delimiter: str = ","
    ) -> None:
        self.stream = stream
        self.mapping = mapping or ColumnMapping()
        self.delimiter = delimiter
        self.stream.seek(0)
        first = self.stream.readline()
        if first.startswith(BOM):
            first = first[len(BOM) :]
        self.header_end = self.stream.tell()
        try:
            text = first.decode("utf-8")
        except UnicodeDecodeError:
            raise CsvUnreadable(NOT_UTF8.format(line=1)) from None
        rows = list(csv.reader([text], delimiter=delimiter))
        self.header = [h.strip() for h in rows[0]] if rows else []
        if not any(self.header):
            raise CsvUnreadable("The file is empty: its first line must name the columns.")
        self.columns = self.mapping.resolve(self.header)

    @property
    def first(self) -> Start:
        return Start(self.header_end, 2)

    def unmapped(self) -> list[str]:
        return [h for i, h in enumerate(self.header) if i not in self.columns]

    def missing_required(self) -> list[str]:
        return self.mapping.missing_required(self.columns)

    def records(self, start: Start | None = None, *, cells: bool = True) -> Iterator[Record]:
        """Every record from ``start`` (default: the first after the header) to the end
        (``cells=False``: without their values, to count them)."""
        start = start or self.first
        self.stream.seek(start.offset)
        lines = _Lines(self.stream, start)
        reader = csv.reader(lines, delimiter=self.delimiter, strict=True)
        width = len(self.header)
        while True:
            line = lines.number + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield Record(line, {}, lines.here(), f"The row cannot be read as CSV ({exc}).")
                continue
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # a blank line
            if len(row) > width and any(c.strip() for c in row[width:]):
                problem = f"The row has {len(row)} cells; the header names {width} columns."
                yield Record(line, {}, lines.here(), problem)
                continue
            yield Record(line, self._values(row) if cells else {}, lines.here())

    def _values(self, cells: list[str]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        n = len(cells)
        for i, target in self.columns.items():  # clean_cell, inline: once per cell of a file
            if i < n and (text := cells[i].strip()):
                if text[0] == "'" and len(text) > 1 and text[1] in FORMULA_START:
                    text = text[1:]
                values[target] = text
        for target, value in self.mapping.defaults.items():
            if values.get(target) is None and value is not None:
                values[target] = value
        return values

    def count(self) -> int:
        """How many records the file holds (for a progress bar); also proves that every
        line is UTF-8 before anything is imported."""
        return sum(1 for _ in self.records(cells=False))


NOT_UTF8 = "Line {line} is not valid UTF-8: save the file as CSV UTF-8 and upload it again."


class _Lines:
    """The stream's lines, decoded, counting line numbers and the bytes consumed."""

    def __init__(self, stream: BinaryIO, start: Start) -> None:
        self.stream = stream
        self.offset = start.offset
        self.number = start.line - 1

    def here(self) -> Start:
        """Where the next record starts."""
        return Start(self.offset, self.number + 1)

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        raw = self.stream.readline()
        if not raw:
            raise StopIteration
        self.offset += len(raw)
        self.number += 1
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise CsvUnreadable(NOT_UTF8.format(line=self.number)) from None
