"""Every exception becomes the spec's envelope here, and only here (``LastResort`` for
whatever gets past the routes)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from xobito.api.routing import busy, failure_message, log, rate_headers
from xobito.kit.db import is_capacity_error
from xobito.kit.errors import ReplayResponse, XobitoError
from xobito.kit.logging import error_text
from xobito.kit.responses import JSONResponse
from xobito.kit.validation import errors_from_pydantic


async def on_xobito_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, XobitoError)
    response = JSONResponse(exc.body(), status_code=exc.status_code, headers=exc.headers())
    return rate_headers(request, response)


async def on_replay(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ReplayResponse)
    response = Response(
        exc.body,
        status_code=exc.status_code,
        media_type="application/json",
        headers={"Idempotent-Replayed": "true"},
    )
    return rate_headers(request, response)


async def on_request_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    items = list(exc.errors())
    route = request.scope.get("route")
    extra = getattr(route, "openapi_extra", None) or {}
    if any(err["loc"][0] == "path" for err in items):
        # A non-numeric or out-of-range id names no record.
        body = {"status": "error", "message": extra.get("x-not-found", "Not found")}
        return rate_headers(request, JSONResponse(body, status_code=404))
    errors = errors_from_pydantic(items, drop=1)
    body = {"status": "error", "message": "Validation failed", "errors": errors}
    return rate_headers(request, JSONResponse(body, status_code=422))


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    messages = {404: "Not found", 405: "Method not allowed"}
    message = messages.get(exc.status_code, str(exc.detail))
    return JSONResponse(
        {"status": "error", "message": message}, status_code=exc.status_code, headers=exc.headers
    )


async def on_unexpected(request: Request, exc: Exception) -> Response:
    if is_capacity_error(exc):
        return await on_xobito_error(request, busy(request, exc, []))
    log.error("unhandled_exception", path=request.url.path, error=error_text(exc), exc_info=exc)
    return JSONResponse({"status": "error", "message": failure_message(request)}, status_code=500)


class LastResort:
    """Outermost middleware: an exception that got past every route and handler (a plain
    route, a middleware) is answered with the 500 envelope and one log line, and goes no
    further. Starlette's own last handler would answer too, then raise it again to the
    server, which logs it a second time as a traceback."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except ClientDisconnect:
            return  # the client went away mid-body: nobody to answer, nothing to log
        except Exception as exc:
            request = Request(scope)
            response = await on_unexpected(request, exc)
            if not started:  # else the client has a partial answer; the server closes it
                await response(scope, receive, send)


def install(app: FastAPI) -> None:
    app.add_exception_handler(XobitoError, on_xobito_error)
    app.add_exception_handler(ReplayResponse, on_replay)
    app.add_exception_handler(RequestValidationError, on_request_validation)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected)
