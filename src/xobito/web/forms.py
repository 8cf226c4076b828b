"""Reading HTML forms into the dicts the domain services validate (the same rules and
messages as the API's JSON bodies)."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request

from xobito.kit.validation import clean_input
from xobito.web.csrf import FIELD

# Checkbox groups and multi-selects: the field's name ends in ``[]`` and it becomes a list.
LIST_SUFFIX = "[]"


async def form_data(request: Request) -> dict[str, Any]:
    """The posted fields, trimmed, empty ones as None (Laravel's TrimStrings and
    ConvertEmptyStringsToNull, as JSON bodies get), without the CSRF field. Files are left
    out (``form_file``)."""
    form = await request.form()
    out: dict[str, Any] = {}
    for key in dict.fromkeys(form.keys()):
        if key == FIELD:
            continue
        values = [v for v in form.getlist(key) if isinstance(v, str)]
        if key.endswith(LIST_SUFFIX):
            out[key[: -len(LIST_SUFFIX)]] = [v for v in (clean_input(v) for v in values) if v]
        elif values:
            out[key] = clean_input(values[-1])
    return out


async def form_file(request: Request, name: str) -> UploadFile | None:
    value = (await request.form()).get(name)
    if isinstance(value, UploadFile) and value.filename:
        return value
    return None


def without_none(data: dict[str, Any]) -> dict[str, Any]:
    """Empty optional fields left out, so a form posts what a JSON client would omit."""
    return {k: v for k, v in data.items() if v is not None}
