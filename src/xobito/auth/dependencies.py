"""The one door into /api/v1: workspace, token, rate limit, quota, ability, idempotency.

Checks run in the order of docs/api/authentication.md. Workspace and token snapshots are cached per
process for
``auth_cache_seconds`` (0.5 s by default), which bounds how long a revoked token keeps working
in another process.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import cast

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from xobito.activity.recorder import Actor, act_as
from xobito.auth import tokens
from xobito.auth.repository import TokenRepository
from xobito.auth.schemas import TokenInfo
from xobito.config import Settings
from xobito.idempotency.service import IdempotencyService, request_hash
from xobito.kit.body import read_limited
from xobito.kit.errors import Forbidden, InvalidSubdomain, TooManyRequests, Unauthorized
from xobito.kit.ratelimit import Decision, RateLimiter
from xobito.kit.time import utcnow
from xobito.kit.ttl_cache import TTLCache
from xobito.workspace.repository import WorkspaceRepository
from xobito.workspace.schemas import WorkspaceInfo

# last_used_at is written at most this often per token, so reads stay read-only.
TOUCH_EVERY = timedelta(seconds=60)
_MISSING = object()


@dataclass(frozen=True, slots=True)
class ApiContext:
    """What a v1 endpoint knows about its caller."""

    workspace: WorkspaceInfo
    token: TokenInfo
    session: AsyncSession


class Authenticator:
    def __init__(self, settings: Settings, limiter: RateLimiter) -> None:
        self.settings = settings
        self.limiter = limiter
        self.workspaces: TTLCache[str, WorkspaceInfo | object] = TTLCache(
            settings.auth_cache_seconds
        )
        self.tokens: TTLCache[str, TokenInfo | object] = TTLCache(settings.auth_cache_seconds)
        self.touched: dict[str, datetime] = {}  # token digest -> when this process wrote it

    async def workspace(self, session: AsyncSession, subdomain: str) -> WorkspaceInfo | None:
        async def load() -> WorkspaceInfo | object:
            ws = await WorkspaceRepository(session).by_subdomain(subdomain)
            return WorkspaceInfo.of(ws) if ws else _MISSING

        cached = await self.workspaces.load(subdomain, load, wait=not session.in_transaction())
        return cached if isinstance(cached, WorkspaceInfo) else None

    async def token(self, session: AsyncSession, plaintext: str) -> TokenInfo | None:
        if not tokens.looks_valid(plaintext):
            return None
        token_hash = tokens.digest(plaintext)

        async def load() -> TokenInfo | object:
            row = await TokenRepository(session).by_hash(token_hash)
            # The index lookup is by digest; compare again in constant time regardless.
            if row is not None and hmac.compare_digest(row.token_hash, token_hash):
                return TokenInfo.of(row)
            return _MISSING

        cached = await self.tokens.load(token_hash, load, wait=not session.in_transaction())
        return cached if isinstance(cached, TokenInfo) else None

    async def authenticate(self, request: Request, subdomain: str) -> ApiContext:
        session: AsyncSession = request.state.session
        workspace = await self.workspace(session, subdomain)
        if workspace is None:
            raise InvalidSubdomain()
        header = request.headers.get("authorization", "")
        scheme, _, plaintext = header.partition(" ")
        plaintext = plaintext.strip()
        if scheme.lower() != "bearer" or not plaintext:
            raise Unauthorized("API token is required")
        now = utcnow()
        token = await self.token(session, plaintext)
        if token is None or token.workspace_id != workspace.id or not token.usable(now):
            raise Unauthorized("Invalid API token")
        limit = token.rate_limit_max or workspace.rate_limit_max
        decision = await self.limiter.hit(f"token/{token.id}", limit, workspace.rate_limit_decay)
        request.state.rate = decision
        if not decision.allowed:
            raise TooManyRequests("Too many requests", decision.retry_after, decision.limit)
        if token.monthly_quota is not None:
            quota = await self.limiter.hit_quota(f"token/{token.id}", token.monthly_quota, now)
            if not quota.allowed:
                raise TooManyRequests(
                    "Monthly quota exceeded", quota.retry_after, decision.limit, decision.remaining
                )
        key = tokens.digest(plaintext)
        if self._due(key, token, now):
            # One touch per token, process and minute, claimed before it is written: when the
            # minute is up, the burst of requests in flight would otherwise each UPDATE the
            # same row and queue on its lock, every one holding a pooled connection (the
            # soak's stalls, issue 16).
            self.touched[key] = now
            try:
                await self._touch(request, session, token, key, now)
            except BaseException:
                self.touched.pop(key, None)  # the next request tries again
                raise
        return ApiContext(workspace, token, session)

    def _due(self, key: str, token: TokenInfo, now: datetime) -> bool:
        if token.last_used_at is not None and now - token.last_used_at <= TOUCH_EVERY:
            return False
        mine = self.touched.get(key)
        if mine is not None and now - mine <= TOUCH_EVERY:
            return False  # this process wrote it (or is writing it) within the minute
        if len(self.touched) >= 10_000:  # bounded: forget the touches that no longer count
            self.touched = {k: v for k, v in self.touched.items() if now - v <= TOUCH_EVERY}
        return True

    async def _touch(
        self, request: Request, session: AsyncSession, token: TokenInfo, key: str, now: datetime
    ) -> None:
        # Committed on its own: a request that fails later (404, 422) still used the token.
        # The auth reads are done: end their transaction first, so the request never holds
        # two connections (SQLite has exactly one).
        await session.rollback()
        async with request.app.state.sessionmaker() as touch_session:
            await TokenRepository(touch_session).touch(token.id, now)
            await touch_session.commit()
        self.tokens.put(key, _touched(token, now))


def _touched(token: TokenInfo, now: datetime) -> TokenInfo:
    return replace(token, last_used_at=now)


def rate_decision(request: Request) -> Decision | None:
    return getattr(request.state, "rate", None)


def require(ability: str) -> Callable[..., Awaitable[ApiContext]]:
    """Dependency for a v1 endpoint needing ``ability``."""

    async def dependency(request: Request, subdomain: str) -> ApiContext:
        app_state = request.app.state
        authenticator: Authenticator = app_state.authenticator
        ctx = await authenticator.authenticate(request, subdomain)
        if ability not in ctx.token.abilities:
            raise Forbidden(f"Token does not have the required ability: {ability}")
        token = ctx.token
        ip = request.client.host if request.client else None
        act_as(Actor("token", token.id, f"{token.name} ({token.prefix}…)", ip), ctx.workspace.id)
        key = request.headers.get("idempotency-key")
        if request.method == "POST" and key is not None:
            extra = getattr(request.scope.get("route"), "openapi_extra", None) or {}
            limit = extra.get("x-max-body", app_state.settings.max_json_body_bytes)
            body = await read_limited(request, limit)
            service: IdempotencyService = app_state.idempotency
            await ctx.session.rollback()  # release the read-only auth transaction (see above)
            reservation = await service.begin(ctx.token.id, key, request_hash(request, body))
            # ``idempotency``: the answer still to store (or the key to give back); cleared
            # once stored. ``reservation``: ended by DatabaseRoute however the request ends.
            request.state.reservation = request.state.idempotency = reservation
        return ctx

    dependency.__name__ = f"require_{ability.replace('.', '_')}"
    dependency.ability = ability  # type: ignore[attr-defined]  # read by DatabaseRoute
    return dependency


def Ability(ability: str) -> ApiContext:
    return cast(ApiContext, Depends(require(ability)))
