"""The only place that turns exceptions into HTML, for the dashboard sub-application.

A full page for normal requests. For htmx requests a small alert swapped into ``#toasts``
(``HX-Retarget``/``HX-Reswap``), so an error never lands inside a table cell or a form. A
missing session sends the browser to sign-in (``HX-Redirect`` for htmx). Nothing here ever
answers JSON: the API's envelope stays the API's.
"""

from __future__ import annotations

from urllib.parse import quote

import structlog
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from xobito.kit.errors import TooManyRequests, ValidationFailed, XobitoError
from xobito.web.deps import SignInRequired
from xobito.web.render import is_htmx, render

log = structlog.get_logger("xobito.web")

TITLES = {
    400: "Bad request",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed",
    409: "Conflict",
    413: "Too large",
    422: "Check the form",
    429: "Too many attempts",
    500: "Something went wrong",
    502: "Meta did not answer",
}
GENERIC = {
    404: "There is nothing at this address, or it is not yours to see.",
    405: "This page does not accept that kind of request.",
    500: "The request could not be completed. Nothing was changed; please try again.",
}


def error_page(
    request: Request, status: int, message: str, headers: dict[str, str] | None = None
) -> Response:
    title = TITLES.get(status, "Error")
    all_headers = dict(headers or {})
    if is_htmx(request):
        all_headers |= {"HX-Retarget": "#toasts", "HX-Reswap": "beforeend"}
        return render(
            request,
            "_toast.html",
            {"kind": "error", "text": message, "title": title},
            status_code=status,
            headers=all_headers,
        )
    return render(
        request,
        "errors/error.html",
        {"status": status, "title": title, "message": message},
        status_code=status,
        headers=all_headers,
    )


async def on_sign_in_required(request: Request, exc: Exception) -> Response:
    path = request.url.path
    target = "/app/login"
    if request.method == "GET" and path not in ("/app/", "/app"):
        query = request.url.query
        target += "?next=" + quote(path + (f"?{query}" if query else ""), safe="")
    if request.headers.get("hx-request") == "true":
        return Response(status_code=401, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


async def on_xobito_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, XobitoError)
    headers = exc.headers() if isinstance(exc, TooManyRequests) else None
    message = exc.message
    if isinstance(exc, ValidationFailed):
        message = " ".join(m for messages in exc.errors.values() for m in messages)
    elif exc.status_code >= 500:
        log.warning("dashboard_failure", path=request.url.path, message=exc.message)
        message = GENERIC[500]
    return error_page(request, exc.status_code, message, headers)


async def on_request_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    if any(err["loc"][0] == "path" for err in exc.errors()):
        return error_page(request, 404, GENERIC[404])
    return error_page(request, 400, "The address has parameters this page cannot read.")


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = GENERIC.get(exc.status_code, str(exc.detail))
    return error_page(request, exc.status_code, message, dict(exc.headers or {}))


async def on_unexpected(request: Request, exc: Exception) -> Response:
    log.error("dashboard_unhandled_exception", path=request.url.path, error=repr(exc))
    return error_page(request, 500, GENERIC[500])


def install(app: FastAPI) -> None:
    app.add_exception_handler(SignInRequired, on_sign_in_required)
    app.add_exception_handler(XobitoError, on_xobito_error)
    app.add_exception_handler(RequestValidationError, on_request_validation)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected)
