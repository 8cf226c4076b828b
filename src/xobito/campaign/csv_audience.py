"""An uploaded CSV audience: one row per recipient, a ``phone`` column and any columns the
variables use. Rows that cannot be read are reported by line and left out; numbers that are
not valid are kept, to be excluded (and counted) as ``invalid`` when the campaign starts.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

import phonenumbers

from xobito.contact.csv_rows import normalise_header
from xobito.kit.phone import parse as parse_phone

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 100_000
MAX_COLUMNS = 50
MAX_CELL = 1024
MAX_REPORTED = 100


@dataclass(slots=True)
class CsvRow:
    line: int
    phone: str  # E.164 when valid, else as written
    valid: bool
    values: dict[str, str]


@dataclass(slots=True)
class CsvAudience:
    rows: list[CsvRow] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    bad_rows: int = 0
    read: int = 0

    def bad(self, line: int, message: str) -> None:
        self.bad_rows += 1
        if len(self.errors) < MAX_REPORTED:
            self.errors.append({"line": line, "message": message})

    def report(self) -> dict[str, Any]:
        return {
            "rows": self.read,
            "accepted": len(self.rows),
            "bad_rows": self.bad_rows,
            "errors": self.errors,
        }


def valid_e164(raw: str) -> str | None:
    number = parse_phone(raw)
    if number is None or not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def columns_of(data: bytes) -> list[str]:
    """The header's column names as the variables name them (empty when unreadable)."""
    try:
        first = data[: 64 * 1024].decode("utf-8-sig", errors="ignore").splitlines()[:1]
        header = next(csv.reader(first))
    except (StopIteration, csv.Error):
        return []
    return [n for n in dict.fromkeys(normalise_header(h) for h in header) if n][:MAX_COLUMNS]


def read_csv(data: bytes, columns: set[str]) -> tuple[CsvAudience | None, str | None]:
    """The rows, or the reason the file as a whole is refused (for ``errors.csv_file``)."""
    if len(data) > MAX_BYTES:
        return None, f"The csv file may not be greater than {MAX_BYTES // 1024} kilobytes."
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None, "The csv file must be UTF-8 text."
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        return None, "The csv file must have a header row."
    names = [normalise_header(h) for h in header]
    if len(names) > MAX_COLUMNS:
        return None, f"The csv file may not have more than {MAX_COLUMNS} columns."
    if "phone" not in names:
        return None, "The csv file must have a phone column."
    missing = sorted(c for c in columns if normalise_header(c) not in names)
    if missing:
        return None, f"The csv file has no column {', '.join(missing)} (used by the variables)."
    phone_at = names.index("phone")
    wanted = {normalise_header(c): c for c in columns} | {"firstname": "firstname"}
    out = CsvAudience()
    try:
        for cells in reader:
            line = reader.line_num
            if not cells or all(not c.strip() for c in cells):
                continue
            out.read += 1
            if out.read > MAX_ROWS:
                return None, f"The csv file may not have more than {MAX_ROWS} rows."
            if len(cells) != len(names):
                out.bad(line, f"The row has {len(cells)} columns; the header has {len(names)}.")
                continue
            phone = cells[phone_at].strip()
            if not phone:
                out.bad(line, "The phone field is required.")
                continue
            if any(len(c) > MAX_CELL for c in cells) or "\x00" in "".join(cells):
                out.bad(line, f"A value is longer than {MAX_CELL} characters or not text.")
                continue
            values = {
                wanted[n]: cells[i].strip() for i, n in enumerate(names) if n in wanted and cells[i]
            }
            e164 = valid_e164(phone)
            out.rows.append(CsvRow(line, e164 or phone[:64], e164 is not None, values))
    except csv.Error as exc:
        return None, f"The csv file could not be read: {exc}."
    return out, None
