"""Static files under ``/static``: the dashboard's own CSS/JS and the npm-installed vendor
files (htmx, its SSE extension, the API docs' bundles).

``static_url("app.css")`` is ``/static/app.css?v=<first 12 hex of its SHA-256>``; each file is
hashed once per process. A request carrying the current hash is served as immutable for a
year; any other request (no or an old ``v``) must revalidate, so a deploy is never masked by
a cached copy.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC_DIR = Path(__file__).resolve().parent / "static"
PREFIX = "/static"
IMMUTABLE = "public, max-age=31536000, immutable"


@lru_cache(maxsize=256)
def file_hash(path: str) -> str:
    file = (STATIC_DIR / path).resolve()
    if STATIC_DIR not in file.parents or not file.is_file():
        raise FileNotFoundError(f"no static file {path!r} (vendor files: scripts/bootstrap.sh)")
    return hashlib.sha256(file.read_bytes()).hexdigest()[:12]


def static_url(path: str) -> str:
    return f"{PREFIX}/{path}?v={file_hash(path)}"


class StaticAssets(StaticFiles):
    def __init__(self) -> None:
        super().__init__(directory=STATIC_DIR, check_dir=False)

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers["X-Content-Type-Options"] = "nosniff"
        if response.status_code == 200:
            wanted = _query_value(scope, b"v")
            try:
                current = file_hash(path)
            except FileNotFoundError:
                current = None
            fresh = wanted is not None and wanted == current
            response.headers["Cache-Control"] = IMMUTABLE if fresh else "no-cache"
        return response


def _query_value(scope: Scope, key: bytes) -> str | None:
    raw: bytes = scope.get("query_string", b"")
    for part in raw.split(b"&"):
        name, _, value = part.partition(b"=")
        if name == key:
            return value.decode("latin-1")
    return None
