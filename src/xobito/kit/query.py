"""Laravel's TrimStrings + ConvertEmptyStringsToNull for query strings: ``?per_page=`` means
"not given", not an invalid value."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from starlette.types import ASGIApp, Receive, Scope, Send


class CleanQueryMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw: bytes = scope.get("query_string", b"") if scope["type"] == "http" else b""
        if raw:
            pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
            kept = [(k, v.strip()) for k, v in pairs if v.strip()]
            if len(kept) != len(pairs) or any(
                v != p[1] for (_, v), p in zip(kept, pairs, strict=False)
            ):
                scope = dict(scope)
                scope["query_string"] = urlencode(kept).encode("latin-1")
        await self.app(scope, receive, send)
