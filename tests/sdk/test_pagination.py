"""Auto-pagination: ``async for`` over every page, following ``next_page_url``."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from tests.factories import Factory
from tests.sdk.conftest import MakeClient, Scripted
from xobito_client import Contact


async def test_iter_walks_40_contacts_in_pages_of_15(
    sdk: MakeClient, factory: Factory, asgi: httpx.ASGITransport
) -> None:
    t = await factory.tenant()
    status = await factory.status(t)
    source = await factory.source(t)
    ids = [
        (await factory.contact(t, status_id=status.id, source_id=source.id))["id"]
        for _ in range(40)
    ]
    spy = Scripted(asgi)
    client = sdk(t, transport=spy)

    seen = [c async for c in client.contacts.iter(per_page=15)]

    assert all(isinstance(c, Contact) for c in seen)
    assert [c.id for c in seen] == ids  # every contact once, in id order
    assert len(spy.sent) == 3
    assert [s.path for s in spy.sent] == [t.url("/contacts")] * 3
    pages = await client.contacts.list(per_page=15, page=3)
    assert (pages.current_page, pages.last_page, pages.total, len(pages.data)) == (3, 3, 40, 10)
    assert pages.next_page_url is None and pages.has_next is False


async def test_iter_requests_next_pages_with_page_and_per_page(
    sdk: MakeClient, factory: Factory, asgi: httpx.ASGITransport
) -> None:
    t = await factory.tenant()
    for _ in range(5):
        await factory.contact(t)
    requested: list[httpx.URL] = []

    async def remember(request: httpx.Request) -> None:
        requested.append(request.url)

    http = httpx.AsyncClient(transport=asgi, event_hooks={"request": [remember]})
    async with http:
        client = sdk(t, http_client=http)
        assert len([c async for c in client.contacts.iter(per_page=2)]) == 5
    assert [(u.params.get("page"), u.params.get("per_page")) for u in requested] == [
        (None, "2"),
        ("2", "2"),
        ("3", "2"),
    ]


async def test_filters_are_kept_on_every_page(sdk: MakeClient, factory: Factory) -> None:
    t = await factory.tenant()
    wanted = [(await factory.contact(t, type="customer"))["id"] for _ in range(4)]
    for _ in range(3):
        await factory.contact(t, type="lead")
    client = sdk(t)
    got = [c.id async for c in client.contacts.iter(per_page=3, type="customer")]
    assert got == wanted


async def test_iter_over_an_empty_list_asks_once(
    sdk: MakeClient, factory: Factory, asgi: httpx.ASGITransport
) -> None:
    t = await factory.tenant()
    spy = Scripted(asgi)
    client = sdk(t, transport=spy)
    assert [s async for s in client.statuses.iter()] == []
    assert len(spy.sent) == 1
    page = await client.statuses.list()
    assert (page.total, page.from_, page.to, page.data) == (0, None, None, [])


async def test_iter_stays_on_the_client_base_url(
    sdk: MakeClient,
    factory: Factory,
    asgi: httpx.ASGITransport,
    app: FastAPI,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With ``XOBITO_PUBLIC_URL`` set, ``next_page_url`` names the public host; the client
    keeps only its query and goes on talking to its own base URL."""
    monkeypatch.setattr(app.state.settings, "public_url", "https://public.example")
    t = await factory.tenant()
    for _ in range(3):
        await factory.source(t)
    hosts: list[str] = []

    async def remember(request: httpx.Request) -> None:
        hosts.append(request.url.host)

    http = httpx.AsyncClient(transport=asgi, event_hooks={"request": [remember]})
    async with http:
        client = sdk(t, http_client=http)
        first = await client.sources.list(per_page=1)
        assert first.next_page_url is not None
        assert first.next_page_url.startswith("https://public.example/")
        names = [s.name async for s in client.sources.iter(per_page=1)]
    assert len(names) == 3
    assert hosts == ["testserver"] * 4
