"""Pagination URLs and ``XOBITO_PUBLIC_URL``: unset, they follow the request's Host header
(which any client sets), so a production start-up without it warns."""

from __future__ import annotations

import gc
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from structlog.testing import capture_logs

from tests.factories import Factory
from xobito.app import create_app
from xobito.config import Settings


@pytest.fixture
def start(settings: Settings) -> Iterator[Callable[..., Awaitable[list[dict[str, Any]]]]]:
    """Starts and stops an app with changed settings (as ``xobito serve`` does, without the
    worker) and returns what it logged while starting."""
    threshold = gc.get_threshold()

    async def started(**change: Any) -> list[dict[str, Any]]:
        app = create_app(settings.model_copy(update={"worker_in_process": False, **change}))
        with capture_logs() as logs:
            async with app.router.lifespan_context(app):
                pass
        return logs

    yield started
    gc.unfreeze()  # a production app tunes the collector (kit.gc): undo it here
    gc.set_threshold(*threshold)


def warnings(logs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in logs if e["event"] == "public_url_unset"]


async def test_a_production_start_without_a_public_url_warns(
    start: Callable[..., Awaitable[list[dict[str, Any]]]],
) -> None:
    (warning,) = warnings(await start(env="production", public_url=None))
    assert warning["log_level"] == "warning"
    assert "XOBITO_PUBLIC_URL" in warning["message"]
    assert "Host header" in warning["message"]


@pytest.mark.parametrize(
    "change",
    [
        {"env": "production", "public_url": "https://api.example.com"},
        {"env": "development", "public_url": None},
        {"env": "testing", "public_url": None},
    ],
)
async def test_no_warning_with_a_public_url_or_outside_production(
    start: Callable[..., Awaitable[list[dict[str, Any]]]], change: dict[str, Any]
) -> None:
    assert warnings(await start(**change)) == []


async def test_unset_the_links_follow_the_host_header_and_set_they_do_not(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = await factory.tenant()
    headers = {**tenant.headers, "Host": "attacker.example"}
    r = await client.get(tenant.url("/contacts"), headers=headers)
    assert r.json()["data"]["path"].startswith("http://attacker.example/")
    monkeypatch.setattr(app.state.settings, "public_url", "https://api.example.com")
    r = await client.get(tenant.url("/contacts"), headers=headers)
    assert r.json()["data"]["path"].startswith("https://api.example.com/api/v1/")
