"""The route class of every database-backed endpoint: one session and one commit per request.

The session is opened before the dependencies run and committed once, after the endpoint
returned and before the response is sent; anything raised rolls it back. An idempotent
POST's stored response is written in that same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import structlog
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from xobito.idempotency.service import IdempotencyService
from xobito.kit.errors import ReplayResponse, UnexpectedFailure, XobitoError

log = structlog.get_logger("xobito.api")

Handler = Callable[[Request], Coroutine[Any, Any, Response]]
# ClientDisconnect: the client went away mid-body; nothing to answer, nothing to log.
EXPECTED = (XobitoError, ReplayResponse, RequestValidationError, HTTPException, ClientDisconnect)


def rate_headers(request: Request, response: Response) -> Response:
    """``X-RateLimit-*`` on every authenticated response (spec §3 [beyond])."""
    decision = getattr(request.state, "rate", None)
    if decision is not None and "x-ratelimit-limit" not in response.headers:
        response.headers["X-RateLimit-Limit"] = str(decision.limit)
        response.headers["X-RateLimit-Remaining"] = str(decision.remaining)
    return response


def failure_message(request: Request) -> str:
    route = request.scope.get("route")
    extra = getattr(route, "openapi_extra", None) or {}
    return f"Failed to {extra.get('x-failure', 'process the request')}"


class DatabaseRoute(APIRoute):
    def direct_call(self) -> Handler | None:
        """The endpoint as a plain call, when it takes nothing but the request and one
        ability check (``Ability``): sends, creates, phone validation. FastAPI's dependency
        solver then has nothing to do but costs ~8 % of a send's CPU (measured); anything
        with query, path, header or body parameters goes through it as usual.
        """
        d = self.dependant
        if d.path_params or d.query_params or d.header_params or d.cookie_params:
            return None
        if d.body_params or len(d.dependencies) != 1 or d.response_param_name:
            return None
        check = d.dependencies[0]
        require = check.call
        if require is None or getattr(require, "ability", None) is None or check.name is None:
            return None
        endpoint, ctx_name, request_name = self.endpoint, check.name, d.request_param_name

        solved = super().get_route_handler()

        async def call(request: Request) -> Response:
            if request.app.dependency_overrides:  # overridden (tests of an embedding app)
                return await solved(request)
            kwargs: dict[str, Any] = {ctx_name: await require(request, **request.path_params)}
            if request_name:
                kwargs[request_name] = request
            response: Response = await endpoint(**kwargs)
            return response

        return call

    def get_route_handler(self) -> Handler:
        original = self.direct_call() or super().get_route_handler()

        async def handler(request: Request) -> Response:
            state = request.app.state
            reads_only = request.method in ("GET", "HEAD")
            # Not ``async with``: a request served from caches and the hot path never uses
            # its session, and then has nothing to commit or close (measured ~5 % of a send).
            session = (state.read_sessionmaker if reads_only else state.sessionmaker)()
            request.state.session = session
            try:
                response = await original(request)
                # 2xx commits; an endpoint may also answer an error it wants kept
                # (a failed WhatsApp send is stored) by setting request.state.commit.
                if response.status_code < 400 or getattr(request.state, "commit", False):
                    row_id = getattr(request.state, "idempotency", None)
                    if row_id is not None:
                        await IdempotencyService.complete(
                            session, row_id, response.status_code, bytes(response.body)
                        )
                    if session.in_transaction():
                        await session.commit()
                else:
                    await _end(session)
                    await _release(request)
                return rate_headers(request, response)
            except BaseException as exc:
                await _end(session)
                await _release(request)
                if isinstance(exc, EXPECTED) or not isinstance(exc, Exception):
                    raise
                log.exception("unexpected_failure", path=request.url.path)
                raise UnexpectedFailure(failure_message(request)) from exc
            finally:
                await _end(session)

        return handler


async def _end(session: AsyncSession) -> None:
    """Roll back and give back the connection of a transaction still open (none after a
    commit): a session only holds a connection inside a transaction."""
    if session.in_transaction():
        await session.close()


async def _release(request: Request) -> None:
    row_id = getattr(request.state, "idempotency", None)
    if row_id is not None:
        request.state.idempotency = None
        service: IdempotencyService = request.app.state.idempotency
        await service.release(row_id)


class PlainRoute(APIRoute):
    """A route whose endpoint takes the ``Request`` and manages its own database access:
    no dependency solving and no session per request (``POST /webhooks/whatsapp``, which
    every Meta delivery hits). Documented in OpenAPI like any other route."""

    def get_route_handler(self) -> Handler:
        endpoint: Handler = self.endpoint

        async def handler(request: Request) -> Response:
            try:
                return await endpoint(request)
            except EXPECTED:
                raise
            except Exception as exc:
                log.exception("unexpected_failure", path=request.url.path)
                raise UnexpectedFailure(failure_message(request)) from exc

        return handler
