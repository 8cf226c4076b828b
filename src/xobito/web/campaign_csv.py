"""The wizard's CSV audience: the file read when it is chosen, by the parser the create uses
(``campaign.csv_audience.read_csv``), so its bad rows are shown by line before anything is
created, and its columns are offered as variable sources.

The browser sends the file once, when it is chosen (and again with the create). What the
rest of the wizard needs from it afterwards (its columns, counts and a sample row for the
preview) travels in one hidden field, ``csv_check``; it only feeds the summary. The create
reads the file again and the service decides.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

import orjson
from starlette.datastructures import UploadFile

from xobito.campaign.csv_audience import MAX_BYTES, columns_of, read_csv
from xobito.kit.multipart import FilePart

SHOWN_ERRORS = 10
NO_FILE = "Choose the CSV file (after an error, choose it again: browsers do not keep it)."


async def file_part(upload: UploadFile | None, field: str, limit: int) -> FilePart | None:
    """An uploaded file as the API's multipart reader gives it to the service (read up to
    one byte past ``limit``, so the service's size rule sees a file too large)."""
    if upload is None:
        return None
    data = await upload.read(limit + 1)
    return FilePart(field, upload.filename or field, upload.content_type or "", data)


async def csv_part(upload: UploadFile | None) -> FilePart | None:
    return await file_part(upload, "csv_file", MAX_BYTES)


def check(part: FilePart) -> dict[str, Any]:
    """The file as the create will read it: rows, the bad ones by line, numbers that will be
    left out as invalid or repeated, its columns and the first usable row."""
    columns = columns_of(part.data)
    parsed, problem = read_csv(part.data, set(columns))
    out: dict[str, Any] = {"name": part.filename[:255], "columns": columns}
    if parsed is None:
        return out | {"problem": problem}
    seen: Counter[str] = Counter(r.phone for r in parsed.rows if r.valid)
    sample = next((r for r in parsed.rows if r.valid), None)
    return out | {
        "rows": parsed.read,
        "bad_rows": parsed.bad_rows,
        "errors": parsed.errors[:SHOWN_ERRORS],
        "invalid": sum(1 for r in parsed.rows if not r.valid),
        "duplicate": sum(n - 1 for n in seen.values()),
        "numbers": len(seen),
        "sample": {"phone": sample.phone, "values": sample.values} if sample else None,
    }


def carried(data: Mapping[str, Any]) -> dict[str, Any] | None:
    """The hidden ``csv_check`` back from the form (None when absent or not ours)."""
    raw = data.get("csv_check")
    if not isinstance(raw, str) or len(raw) > 200_000:
        return None
    try:
        found = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(found, dict) or not isinstance(found.get("columns"), list):
        return None
    out: dict[str, Any] = {
        "name": str(found.get("name") or "")[:255],
        "columns": [str(c) for c in found["columns"]][:50],
    }
    if found.get("problem") is not None:
        return out | {"problem": str(found["problem"])[:500]}
    for key in ("rows", "bad_rows", "invalid", "duplicate", "numbers"):
        value = found.get(key)
        out[key] = value if isinstance(value, int) and not isinstance(value, bool) else 0
    given = found.get("errors")
    errors: list[Any] = given if isinstance(given, list) else []
    out["errors"] = [
        {"line": e["line"], "message": str(e.get("message"))[:500]}
        for e in errors[:SHOWN_ERRORS]
        if isinstance(e, dict) and isinstance(e.get("line"), int)
    ]
    sample = found.get("sample")
    ok = isinstance(sample, dict) and isinstance(sample.get("values"), dict)
    out["sample"] = sample if ok else None
    return out


def dumps(found: Mapping[str, Any] | None) -> str:
    return orjson.dumps(found).decode() if found else ""
