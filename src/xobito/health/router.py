"""``/healthz``, ``/readyz`` and ``/metrics``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import Response

from xobito import __version__
from xobito.kit.metrics import exposition
from xobito.kit.migrate import current_revision, head_revision
from xobito.kit.openapi import record
from xobito.kit.responses import JSONResponse

router = APIRouter(tags=["operations"])

_READY = {
    "type": "object",
    "required": ["status", "checks"],
    "properties": {
        "status": {"type": "string", "enum": ["ok", "error"]},
        "checks": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}


def _doc(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _READY}}}


@router.get(
    "/healthz",
    responses={
        200: {
            "description": "The process is up, and which release of Xobito it runs",
            "content": {
                "application/json": {
                    "schema": record(status={"enum": ["ok"]}, version={"type": "string"})
                }
            },
        }
    },
)
async def healthz() -> Response:
    return JSONResponse({"status": "ok", "version": __version__})


@router.get(
    "/readyz",
    responses={
        200: _doc("Database reachable and migrations current (and Redis, when configured)"),
        503: _doc("Not ready; ``checks`` says why"),
    },
)
async def readyz(request: Request) -> Response:
    state = request.app.state
    checks: dict[str, str] = {}
    try:
        async with state.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        current = await current_revision(state.engine)
        head = head_revision(state.settings.database_url)
        checks["database"] = "ok"
        checks["migrations"] = "ok" if current == head else f"at {current}, expected {head}"
    except Exception as exc:  # any failure means "not ready"; the reason is reported
        checks["database"] = f"unreachable: {type(exc).__name__}"
    if state.settings.redis_url:
        try:
            checks["redis"] = "ok" if await state.limiter.check() else "unreachable"
        except Exception as exc:
            checks["redis"] = f"unreachable: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ok" if ready else "error", "checks": checks}, status_code=200 if ready else 503
    )


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {
            "description": "Prometheus text exposition",
            "content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}},
        }
    },
)
async def metrics() -> Response:
    body, media_type = exposition()
    return Response(body, media_type=media_type)
