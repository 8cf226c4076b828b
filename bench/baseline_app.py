"""The lean baseline for ``GET /api/v1/{subdomain}/contacts?per_page=15``: what a careful
engineer writes by hand on the same tables, to measure the product against.

FastAPI + an asyncpg pool, no ORM: the token looked up by its SHA-256 hash (with its
workspace, both cached for a few seconds), a ``count(*)`` and a page query (the page's group
ids aggregated in it), the Laravel paginator built in Python and encoded with orjson. No
abilities, rate limit, quota, middleware or error envelope: the floor the product is held
to. Run with ``uvicorn bench.baseline_app:create_baseline_app --factory`` and
``XOBITO_DATABASE_URL`` set. Never used in production.
"""

from __future__ import annotations

import hashlib
import math
import os
import time
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import orjson
from fastapi import FastAPI, Request
from starlette.responses import Response

CACHE_SECONDS = 10.0
COLUMNS = (
    "id, workspace_id, firstname, lastname, company, type, description, country_id, zip,"
    " city, state, address, website, email, phone, source_id, status_id, assigned_id,"
    " is_enabled, is_opted_out, opted_out_at, created_at, updated_at"
)
PAGE = f"""
SELECT {COLUMNS},
  ARRAY(SELECT g.group_id FROM contact_groups g WHERE g.contact_id = c.id ORDER BY 1) AS groups
FROM contacts c WHERE workspace_id = $1 ORDER BY id LIMIT $2 OFFSET $3
"""
COUNT = "SELECT count(*) FROM contacts WHERE workspace_id = $1"
TOKEN = """
SELECT t.workspace_id FROM api_tokens t JOIN workspaces w ON w.id = t.workspace_id
WHERE t.token_hash = $1 AND w.subdomain = $2 AND t.is_active
"""


def _ts(value: Any) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _record(r: asyncpg.Record) -> dict[str, Any]:
    out = dict(r)
    out["tenant_id"] = out.pop("workspace_id")
    out["group_id"] = list(out.pop("groups"))
    out["is_enabled"] = int(out["is_enabled"])
    out["is_opted_out"] = int(out["is_opted_out"])
    for key in ("opted_out_at", "created_at", "updated_at"):
        out[key] = _ts(out[key])
    return out


def _links(path: str, page: int, last: int) -> list[dict[str, Any]]:
    def url(n: int) -> str:
        return f"{path}?per_page=15&page={n}"

    links: list[dict[str, Any]] = [
        {"url": url(page - 1) if page > 1 else None, "label": "&laquo; Previous", "active": False}
    ]
    shown = range(1, last + 1) if last < 14 else [*range(1, 11), None, last - 1, last]
    for n in shown:
        links.append(
            {"url": None, "label": "...", "active": False}
            if n is None
            else {"url": url(n), "label": str(n), "active": n == page}
        )
    links.append(
        {"url": url(page + 1) if page < last else None, "label": "Next &raquo;", "active": False}
    )
    return links


def create_baseline_app() -> FastAPI:
    dsn = os.environ["XOBITO_DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://", 1)
    tokens: dict[tuple[str, str], tuple[int, float]] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # type: ignore[no-untyped-def]
        app.state.pool = await asyncpg.create_pool(dsn, min_size=5, max_size=20)
        yield
        await app.state.pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/healthz")
    async def healthz() -> Response:
        return Response(b"ok")

    @app.get("/api/v1/{subdomain}/contacts")
    async def contacts(request: Request, subdomain: str, page: int = 1) -> Response:
        auth = request.headers.get("authorization", "")
        digest = hashlib.sha256(auth.removeprefix("Bearer ").encode()).hexdigest()
        pool: asyncpg.Pool = request.app.state.pool
        async with pool.acquire() as conn:
            cached = tokens.get((digest, subdomain))
            if cached is None or cached[1] < time.monotonic():
                workspace_id = await conn.fetchval(TOKEN, digest, subdomain)
                if workspace_id is None:
                    return Response(b'{"message":"Invalid API token"}', 401)
                cached = (workspace_id, time.monotonic() + CACHE_SECONDS)
                tokens[(digest, subdomain)] = cached
            workspace_id = cached[0]
            total = await conn.fetchval(COUNT, workspace_id)
            rows = await conn.fetch(PAGE, workspace_id, 15, (page - 1) * 15)
        path = str(request.url).split("?")[0]
        last = max(1, math.ceil(total / 15))
        first = (page - 1) * 15 + 1
        body = {
            "status": "success",
            "data": {
                "current_page": page,
                "data": [_record(r) for r in rows],
                "first_page_url": f"{path}?per_page=15&page=1",
                "from": first if rows else None,
                "last_page": last,
                "last_page_url": f"{path}?per_page=15&page={last}",
                "links": _links(path, page, last),
                "next_page_url": f"{path}?per_page=15&page={page + 1}" if page < last else None,
                "path": path,
                "per_page": 15,
                "prev_page_url": f"{path}?per_page=15&page={page - 1}" if page > 1 else None,
                "to": first + len(rows) - 1 if rows else None,
                "total": total,
            },
        }
        return Response(orjson.dumps(body), media_type="application/json")

    return app
