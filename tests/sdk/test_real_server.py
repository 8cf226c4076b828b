"""The sync ``Client`` (every method) and the async client's aiohttp backend, against a real
uvicorn process serving the test database over TCP."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from tests.factories import Factory, Tenant
from tests.message.conftest import Messaging
from tests.servers import Server, free_port
from xobito_client import (
    APIConnectionError,
    AsyncClient,
    AuthenticationError,
    Client,
    NotFoundError,
    RateLimitError,
    ValidationError,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
# The server process keeps its own rate-limit counters (in memory on the SQLite backend), keyed
# by token id and window length, and token ids restart at 1 in every test. So these tenants get
# a limit no test reaches, and the one rate-limit test a window length (7 min) no other uses.
UNLIMITED: dict[str, Any] = {"rate_limit_max": 100_000}


class SyncSleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, delay: float) -> None:
        self.calls.append(delay)


class LoseFirstResponse(httpx.BaseTransport):
    """The first request reaches the server; its answer is lost on the way back."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.keys: list[str | None] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.keys.append(request.headers.get("idempotency-key"))
        response = self.inner.handle_request(request)
        response.read()
        if len(self.keys) == 1:
            raise httpx.RemoteProtocolError("server disconnected", request=request)
        return response

    def close(self) -> None:
        self.inner.close()


def sync_client(server: Server, t: Tenant, **options: Any) -> Client:
    return Client(server.url, t.workspace.subdomain, t.token, **options)


async def test_sync_records_crud_and_pagination(server: Server, factory: Factory) -> None:
    t = await factory.tenant(**UNLIMITED)
    with sync_client(server, t) as client:
        status = client.statuses.create("Prospect", color="#aabbcc")
        source = client.sources.create("Fair")
        group = client.groups.create("Friends")
        assert client.statuses.update(status.id, "Prospects").name == "Prospects"
        assert client.sources.update(source.id, "Trade fair").name == "Trade fair"
        assert client.groups.update(group.id, "Good friends").name == "Good friends"
        assert client.statuses.get(status.id).color == "#aabbcc"
        assert [s.name for s in client.sources.iter()] == ["Trade fair"]
        assert client.groups.list().data[0].id == group.id

        made = [
            client.contacts.create(
                firstname=f"P{n}",
                phone=f"+1415555{n:04d}",
                type="lead",
                source_id=source.id,
                status_id=status.id,
            )
            for n in range(40)
        ]
        seen = list(client.contacts.iter(per_page=15))
        assert [c.id for c in seen] == [c.id for c in made]
        assert client.contacts.list(per_page=15, page=3).to == 40
        assert [c.firstname for c in client.contacts.iter(search="P39")] == ["P39"]

        one = made[0]
        assert client.contacts.get(one.id) == one
        changed = client.contacts.update(
            one.id,
            firstname="Pat",
            lastname="Doe",
            phone=one.phone,
            type="customer",
            groups="Good friends",
        )
        assert (changed.type, changed.group_id) == ("customer", [group.id])
        client.contacts.delete(one.id)
        client.statuses.delete(status.id)
        client.sources.delete(source.id)
        client.groups.delete(group.id)
        with pytest.raises(NotFoundError):
            client.contacts.get(one.id)
        assert client.contacts.get(made[1].id).status_id is None  # its status was deleted


async def test_sync_messages_templates_and_phone(
    server: Server, factory: Factory, messaging: Messaging
) -> None:
    t = await factory.tenant(enforce_care_window=False, **UNLIMITED)  # sandbox provider
    template = await messaging.template(t, "order_update")
    phone = "+14155551234"
    with sync_client(server, t) as client:
        assert [x.template_name for x in client.templates.iter()] == ["order_update"]
        assert client.templates.list().total == 1
        assert client.templates.get(template.id).body_params_count == 2

        text = client.messages.send_text(phone, "Hi", contact={"firstname": "Sam"})
        assert text.contact_created and text.message_id.startswith("wamid.")
        buttons = client.messages.send_interactive(phone, "Ok?", [{"id": "y", "title": "Yes"}])
        cta = client.messages.send_cta_url(phone, "Track", "Open", "https://example.com/t")
        tpl = client.messages.send_template(
            phone, "order_update", "en_US", body_params=["Sam", "#7"]
        )
        by_url = client.messages.send_media(phone, "image", media_url="https://example.com/a.png")
        upload = client.messages.send_media(phone, "image", file=("a.png", PNG), caption="A")
        ids = {m.message_id for m in (text, buttons, cta, tpl, by_url, upload)}
        assert len(ids) == 6
        assert {m.contact_id for m in (text, buttons, cta, tpl, by_url, upload)} == {
            text.contact_id
        }
        status = client.messages.status(upload.message_id)
        assert (status.message_id, status.delivery_status) == (upload.message_id, "sent")

        check = client.phone.validate("+44 20 7946 0958")
        assert (check.format_valid, check.country_code) == (True, "44")


async def test_sync_errors(server: Server, factory: Factory) -> None:
    t = await factory.tenant(rate_limit_max=4, rate_limit_decay=7)
    with sync_client(server, t, max_retries=0) as client:
        with pytest.raises(ValidationError) as caught:
            client.statuses.create("ab")
        assert caught.value.errors == {"name": ["The name must be at least 3 characters."]}
        with pytest.raises(NotFoundError):
            client.groups.delete(12345)
        with pytest.raises(RateLimitError) as limited:
            client.sources.list()  # requests 3 and 4 of the window pass, the 5th is refused
            client.sources.list()
            client.sources.list()
        assert (limited.value.retry_after or 0) >= 1
    with (
        Client(server.url, t.workspace.subdomain, "apitk_wrong") as bad,
        pytest.raises(AuthenticationError),
    ):
        bad.contacts.list()


async def test_sync_retries_a_lost_response_with_the_same_key(
    server: Server, factory: Factory
) -> None:
    t = await factory.tenant(**UNLIMITED)
    transport = LoseFirstResponse()
    sleeps = SyncSleeps()
    with sync_client(server, t, transport=transport, sleep=sleeps) as client:
        group = client.groups.create("Once")
        assert [g.id for g in client.groups.iter()] == [group.id]
    assert transport.keys[0] is not None and transport.keys[0] == transport.keys[1]
    assert len(sleeps.calls) == 1


async def test_sync_connection_refused_is_retried_then_raised(factory: Factory) -> None:
    t = await factory.tenant(**UNLIMITED)
    sleeps = SyncSleeps()
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with (
        Client(url, t.workspace.subdomain, t.token, max_retries=2, sleep=sleeps) as client,
        pytest.raises(APIConnectionError),
    ):
        client.phone.validate("+14155550100")
    assert len(sleeps.calls) == 2


async def test_aiohttp_backend_against_the_server(server: Server, factory: Factory) -> None:
    t = await factory.tenant(**UNLIMITED)
    async with AsyncClient(
        server.url, t.workspace.subdomain, t.token, http_backend="aiohttp"
    ) as client:
        assert type(client._http._transport).__name__ == "AiohttpTransport"
        status = await client.statuses.create("Via aiohttp")
        for n in range(5):
            await client.groups.create(f"Group {n}")
        assert [g.name async for g in client.groups.iter(per_page=2)] == [
            f"Group {n}" for n in range(5)
        ]
        assert (await client.statuses.get(status.id)).name == "Via aiohttp"
        with pytest.raises(NotFoundError):
            await client.contacts.get(999)
        with pytest.raises(ValidationError) as caught:
            await client.sources.create("")
        assert caught.value.errors == {"name": ["The name field is required."]}


async def test_aiohttp_backend_connection_refused(factory: Factory) -> None:
    t = await factory.tenant(**UNLIMITED)
    calls: list[float] = []

    async def sleep(delay: float) -> None:
        calls.append(delay)

    url = f"http://127.0.0.1:{free_port()}"
    async with AsyncClient(
        url, t.workspace.subdomain, t.token, http_backend="aiohttp", sleep=sleep, max_retries=1
    ) as client:
        with pytest.raises(APIConnectionError):
            await client.contacts.list()
    assert len(calls) == 1
