"""The route class of every database-backed endpoint: one session and one commit per request.

The session is opened before the dependencies run and committed once, after the endpoint
returned and before the response is sent; anything raised rolls it back. An idempotent
POST's stored response is written in that same transaction, and so is the activity log's
entry of a state-changing request (``activity/recorder.py``).

No exception leaves a route: an unexpected one, including one raised while committing or
cleaning up (closing the session, giving back an idempotency key), becomes the spec's 500
``Failed to <action>`` with one structured log line; a cleanup step that fails after an
answer the client should see (a 422, a 404) is logged and the answer kept.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Coroutine
from typing import Any

import structlog
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import SessionTransaction
from sqlalchemy.util import greenlet_spawn
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from xobito.activity.recorder import ActivityRecorder, Note, recording
from xobito.idempotency.service import IdempotencyService, Reservation
from xobito.kit.db import is_capacity_error
from xobito.kit.errors import ReplayResponse, ServerBusy, UnexpectedFailure, XobitoError
from xobito.kit.logging import error_text
from xobito.workspace.repository import WorkspaceRepository

log = structlog.get_logger("xobito.api")

Handler = Callable[[Request], Coroutine[Any, Any, Response]]
# ClientDisconnect: the client went away mid-body; nothing to answer, nothing to log.
EXPECTED = (XobitoError, ReplayResponse, RequestValidationError, HTTPException, ClientDisconnect)
# Routes whose calls are not activity-log entries: sends are recorded as messages (with their
# delivery statuses), phone validation changes nothing, and the send path stays one statement.
UNLOGGED = ("messages.", "phone.")


def rate_headers(request: Request, response: Response) -> Response:
    """``X-RateLimit-*`` on every authenticated response (docs/api/rate-limits.md [beyond])."""
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
        logged = not self.name.startswith(UNLOGGED)

        async def handler(request: Request) -> Response:
            if not logged or request.method in ("GET", "HEAD", "OPTIONS"):
                return await database_call(request)
            with recording() as recorder:
                request.state.activity = recorder
                return await database_call(request)

        async def database_call(request: Request) -> Response:
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
                    recorder = getattr(request.state, "activity", None)
                    if recorder is not None and response.status_code < 400:
                        await recorder.flush(session, await _route_note(request, recorder))
                    reservation = getattr(request.state, "idempotency", None)
                    if reservation is not None:
                        await state.idempotency.complete(
                            session, reservation, response.status_code, bytes(response.body)
                        )
                    if session.in_transaction():
                        await session.commit()
                    request.state.idempotency = None  # the answer is stored with the work
            except BaseException as exc:
                failed = await clean_up(request, session)
                if isinstance(exc, EXPECTED) or not isinstance(exc, Exception):
                    log_cleanup(request, failed)
                    raise
                if is_capacity_error(exc):
                    raise busy(request, exc, failed) from None
                log.error(
                    "unexpected_failure",
                    path=request.url.path,
                    error=error_text(exc),
                    cleanup_failed=failed or None,
                    exc_info=exc,
                )
                raise UnexpectedFailure(failure_message(request)) from None
            log_cleanup(request, await clean_up(request, session))
            return rate_headers(request, response)

        return handler


async def _route_note(request: Request, recorder: ActivityRecorder) -> Note | None:
    """The entry of a change no service described: the route's name and path."""
    if recorder.notes or recorder.actor is None:
        return None
    workspace_id = recorder.workspace_id
    subdomain = request.path_params.get("subdomain")
    if workspace_id is None and isinstance(subdomain, str):
        ws = await WorkspaceRepository(request.state.session).by_subdomain(subdomain)
        workspace_id = ws.id if ws is not None else None
    route = request.scope.get("route")
    name = getattr(route, "name", None) or "request"
    return Note(workspace_id, name, f"{request.method} {request.url.path}")


async def clean_up(request: Request, session: AsyncSession) -> list[str]:
    """End a request: roll back what is still open, give back the key of work that was not
    stored, end its reservation. Every step runs and none raises; returns what failed."""
    failed: list[str] = []
    if session.in_transaction():  # none after a commit: a session only holds a connection then
        transaction = session.sync_session.get_transaction()
        try:
            await session.close()
        except Exception as exc:
            failed.append(f"close session: {error_text(exc)}")
            if transaction is not None:
                await greenlet_spawn(_discard, transaction)
    service: IdempotencyService = request.app.state.idempotency
    reservation: Reservation | None = getattr(request.state, "idempotency", None)
    held: Reservation | None = getattr(request.state, "reservation", None)
    try:
        if reservation is not None:
            request.state.idempotency = None
            error = await service.release(reservation)
            if error is not None:
                failed.append(f"release idempotency key: {error_text(error)}")
    finally:  # even when cancelled meanwhile: the request is over
        if held is not None:
            request.state.reservation = None
            service.finish(held)
    return failed


def _discard(transaction: SessionTransaction) -> None:
    """A rollback that failed leaves the transaction's connections checked out in an unknown
    state: invalidate them (the pool opens new ones) and give them back."""
    for connection, *_ in list(transaction._connections.values()):
        with contextlib.suppress(Exception):
            connection.invalidate()
        with contextlib.suppress(Exception):
            connection.close()


def busy(request: Request, exc: BaseException, failed: list[str]) -> ServerBusy:
    """The 503 for a request the database had no connection for: one warning line, no
    traceback (an overload is not a bug; the metrics and this line show how often)."""
    log.warning(
        "server_busy", path=request.url.path, error=error_text(exc), cleanup_failed=failed or None
    )
    return ServerBusy()


def log_cleanup(request: Request, failed: list[str]) -> None:
    if failed:
        log.error("cleanup_failed", path=request.url.path, cleanup_failed=failed)


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
                if is_capacity_error(exc):
                    raise busy(request, exc, []) from None
                log.error(
                    "unexpected_failure", path=request.url.path, error=error_text(exc), exc_info=exc
                )
                raise UnexpectedFailure(failure_message(request)) from None

        return handler
