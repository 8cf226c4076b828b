"""One access-log line per request when ``access_log`` is on (the development default)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from structlog.testing import capture_logs

from tests.factories import Factory
from xobito.app import create_app
from xobito.config import Settings
from xobito.kit.db import dispose_engine


def test_on_in_development_off_elsewhere() -> None:
    def resolved(**given: object) -> bool | None:
        return Settings(_env_file=None, **given).access_log  # type: ignore[call-arg]

    assert resolved(env="development") is True
    assert resolved(env="production") is False
    assert resolved(env="testing") is False
    assert resolved(env="production", access_log=True) is True


@pytest.fixture
async def logged(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings.model_copy(update={"access_log": True}))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client
    await dispose_engine(app.state.engine)


async def test_one_line_per_request_without_the_query(
    logged: httpx.AsyncClient, factory: Factory
) -> None:
    t = await factory.tenant()
    with capture_logs() as logs:
        ok = await logged.get(t.url("/contacts?search=ada@example.com"), headers=t.headers)
        missing = await logged.get("/nowhere")
        page = await logged.get("/app/login")  # a mounted app: its prefix once
    assert (ok.status_code, missing.status_code, page.status_code) == (200, 404, 200)
    lines = [entry for entry in logs if entry["event"] == "request"]
    assert [(e["method"], e["path"], e["status"]) for e in lines] == [
        ("GET", t.url("/contacts"), 200),
        ("GET", "/nowhere", 404),
        ("GET", "/app/login", 200),
    ]
    assert all(e["ms"] >= 0 and e["log_level"] == "info" for e in lines)
    assert not any("ada@example.com" in str(e) for e in logs)


async def test_off_means_no_line(client: httpx.AsyncClient) -> None:
    with capture_logs() as logs:
        assert (await client.get("/healthz")).status_code == 200
    assert [e for e in logs if e["event"] == "request"] == []
