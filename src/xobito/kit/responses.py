"""Fast JSON responses: orjson encoding of plain dicts (no FastAPI model serialisation)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def success(data: Any = None, message: str | None = None, status_code: int = 200) -> JSONResponse:
    body: dict[str, Any] = {"status": "success"}
    if message is not None:
        body["message"] = message
    if data is not None:
        body["data"] = data
    return JSONResponse(body, status_code=status_code)
