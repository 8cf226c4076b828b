"""``LastResort``: what gets past every route and handler is still the 500 envelope and one
log line, and never reaches the server as an exception."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route
from structlog.testing import capture_logs

from xobito.api.handlers import LastResort


async def broken(request: Request) -> Response:
    raise RuntimeError("broken outside any route class")


async def half(request: Request) -> Response:
    async def body() -> Any:
        yield b'{"status":'
        raise RuntimeError("broken mid-answer")

    return StreamingResponse(body(), media_type="application/json")


async def gone(request: Request) -> Response:
    raise ClientDisconnect()


def small_app() -> Starlette:
    # As in the app: a user middleware, inside Starlette's own last handler (which would
    # answer, then raise the exception again to the server).
    return Starlette(
        routes=[
            Route("/broken", broken),
            Route("/half", half),
            Route("/gone", gone, methods=["POST"]),
        ],
        middleware=[Middleware(LastResort)],
    )


@pytest.fixture
def strict() -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=small_app(), raise_app_exceptions=True)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture
def logs() -> Iterator[list[dict[str, Any]]]:
    with capture_logs() as captured:
        yield captured


async def test_an_exception_past_every_handler_is_the_500_envelope_and_one_line(
    strict: httpx.AsyncClient, logs: list[dict[str, Any]]
) -> None:
    r = await strict.get("/broken")
    assert (r.status_code, r.json()) == (
        500,
        {"status": "error", "message": "Failed to process the request"},
    )
    [line] = [e for e in logs if e["log_level"] == "error"]
    assert (line["event"], line["path"]) == ("unhandled_exception", "/broken")
    assert "broken outside any route class" in line["error"]


async def test_an_exception_after_the_answer_began_is_logged_once_and_goes_no_further(
    logs: list[dict[str, Any]],
) -> None:
    sent: list[dict[str, Any]] = []
    requested = False
    never = asyncio.Event()

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if requested:  # the client stays connected
            await never.wait()
        requested = True
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/half",
        "raw_path": b"/half",
        "query_string": b"",
        "headers": [],
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 1234),
    }
    await small_app()(scope, receive, send)  # raises nothing
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert sent[0]["status"] == 200 and sent[1]["body"] == b'{"status":'  # nothing added
    [line] = [e for e in logs if e["log_level"] == "error"]
    assert line["event"] == "unhandled_exception"


async def test_the_app_is_wrapped_in_it(app: Any) -> None:
    assert app.user_middleware[0].cls is LastResort  # the outermost of ours


async def test_a_client_gone_mid_body_is_neither_answered_nor_logged(
    logs: list[dict[str, Any]],
) -> None:
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/gone",
        "raw_path": b"/gone",
        "query_string": b"",
        "headers": [],
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 1234),
    }
    await small_app()(scope, receive, send)
    assert sent == []
    assert [e for e in logs if e["log_level"] == "error"] == []
