"""One log line per HTTP request: method, path, status, duration and client address.

On by default in development (``XOBITO_ACCESS_LOG``); in production it is off unless asked
for, and then rendered like every other line (JSON with ``XOBITO_LOG_FORMAT=json``). The query
string is never logged: it can hold personal data (``?search=ada@example.com``).
"""

from __future__ import annotations

import time

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = structlog.get_logger("xobito.access")


class AccessLogMiddleware:
    """Pure ASGI, like the metrics middleware: no Request object per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = [500]
        # Read before the app runs: a mount (the dashboard's /app) moves its prefix into
        # root_path in this same scope, and root_path + path would then hold it twice.
        path = scope.get("root_path", "") + scope["path"]

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            client = scope.get("client")
            log.info(
                "request",
                method=scope["method"],
                path=path,
                status=status[0],
                ms=round((time.perf_counter() - start) * 1000, 1),
                client=client[0] if client else None,
            )
