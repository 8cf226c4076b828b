"""Bench-only app factory: the real Xobito app plus ``GET /bench/bare``.

``/bench/bare`` answers pre-encoded bytes (read once, when the app is created, from the file
named by ``XOBITO_BENCH_BARE_BODY``) with no auth, database or rate limit, so it measures what
the server stack itself costs: uvicorn + httptools + the metrics middleware + FastAPI routing.

Run with ``uvicorn bench.bench_app:create_bench_app --factory``. Never used in production.
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI
from starlette.responses import Response

from xobito.app import create_app

BODY_ENV = "XOBITO_BENCH_BARE_BODY"
FALLBACK = b'{"status":"success","data":[]}'


def create_bench_app() -> FastAPI:
    app = create_app()
    path = os.environ.get(BODY_ENV)
    body = Path(path).read_bytes() if path else FALLBACK

    @app.get("/bench/bare", include_in_schema=False)
    async def bare() -> Response:
        return Response(body, media_type="application/json")

    return app
