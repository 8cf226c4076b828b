"""Operator authentication for /api/admin."""

from __future__ import annotations

import hmac

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from xobito.activity.recorder import Actor, act_as
from xobito.kit.errors import NotFound, Unauthorized


async def operator(request: Request) -> AsyncSession:
    """The admin API does not exist without a key; with one, the key is required."""
    key: str | None = request.app.state.settings.admin_key
    if not key:
        raise NotFound("Not found")
    header = request.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), key.encode()):
        raise Unauthorized("Invalid admin key")
    ip = request.client.host if request.client else None
    act_as(Actor("admin", None, "Operator (admin API)", ip))
    session: AsyncSession = request.state.session
    return session
