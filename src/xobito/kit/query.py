"""Input hygiene before routing.

Query strings get Laravel's TrimStrings + ConvertEmptyStringsToNull (``?per_page=`` means
"not given", not an invalid value). NUL characters, which no database column can hold, are
removed from query values, and a path containing one names nothing (404).
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

NOT_FOUND = orjson.dumps({"status": "error", "message": "Not found"})


class CleanQueryMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope.get("path", ""):
            await send(
                {
                    "type": "http.response.start",
                    "status": 404,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(NOT_FOUND)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": NOT_FOUND})
            return
        raw: bytes = scope.get("query_string", b"")
        if raw:
            pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
            kept = [(k, v) for k, v in ((k, v.replace("\x00", "").strip()) for k, v in pairs) if v]
            if kept != pairs:
                scope = dict(scope)
                scope["query_string"] = urlencode(kept).encode("latin-1")
        await self.app(scope, receive, send)
