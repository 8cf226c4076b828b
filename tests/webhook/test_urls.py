"""SSRF protection (spec §10 URLs, ``webhook_allow_private_urls``): internal destinations are
refused when creating an endpoint and again, after name resolution, on every delivery."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import AsyncIterator

import aiohttp
import httpx
import pytest

from tests.factories import Factory
from tests.webhook.conftest import FakeClock, Hooks, MakeDispatcher, Receiver
from xobito.app import create_app
from xobito.config import Settings
from xobito.webhook.dispatcher import describe
from xobito.webhook.urls import (
    BLOCKED_MESSAGE,
    address_allowed,
    literal_host_allowed,
    resolver_kwargs,
)

REFUSED = [
    "http://127.0.0.1/hook",
    "http://10.0.0.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://192.168.1.10:8080/x",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://0.0.0.0/",
    "http://localhost:9000/",
    "http://api.localhost/",
]


@pytest.fixture
async def strict(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A second app on the same database, configured as production would be."""
    app = create_app(settings.model_copy(update={"webhook_allow_private_urls": False}))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c
    await app.state.dispatcher.close()
    await app.state.engine.dispose()


@pytest.mark.parametrize("url", REFUSED)
async def test_internal_addresses_are_refused_at_creation(
    strict: httpx.AsyncClient, factory: Factory, hooks: Hooks, url: str
) -> None:
    t = await factory.tenant()
    r = await strict.post(f"{hooks.base(t)}/webhooks", json={"url": url}, headers=hooks.admin)
    assert r.status_code == 422, r.text
    assert r.json() == {
        "status": "error",
        "message": "Validation failed",
        "errors": {"url": [BLOCKED_MESSAGE]},
    }


async def test_public_urls_are_accepted_and_an_update_is_checked_too(
    strict: httpx.AsyncClient, factory: Factory, hooks: Hooks
) -> None:
    t = await factory.tenant()
    r = await strict.post(
        f"{hooks.base(t)}/webhooks",
        json={"url": "https://hooks.example.com/x"},
        headers=hooks.admin,
    )
    assert r.status_code == 201, r.text
    eid = r.json()["data"]["id"]
    r = await strict.patch(
        f"{hooks.base(t)}/webhooks/{eid}", json={"url": "http://10.1.2.3/"}, headers=hooks.admin
    )
    assert r.status_code == 422
    assert r.json()["errors"] == {"url": [BLOCKED_MESSAGE]}


def test_private_urls_are_allowed_by_default_except_in_production() -> None:
    def allowed(**fields: object) -> bool | None:
        return Settings(_env_file=None, **fields).webhook_allow_private_urls  # type: ignore[call-arg]

    assert allowed(env="production") is False
    assert allowed(env="development") is True
    assert allowed(env="testing") is True
    assert allowed(env="production", webhook_allow_private_urls=True) is True
    assert allowed(env="development", webhook_allow_private_urls=False) is False


@pytest.mark.parametrize(
    ("address", "ok"),
    [
        ("93.184.216.34", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
        ("127.0.0.1", False),
        ("10.255.0.1", False),
        ("172.16.0.1", False),
        ("192.168.0.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),  # shared address space (carrier-grade NAT)
        ("100.100.100.200", False),  # a cloud metadata address inside it
        ("2001:db8::1", False),  # documentation range
        ("::1", False),
        ("fe80::1%eth0", False),
        ("fc00::1", False),
        ("::ffff:10.0.0.1", False),
        ("224.0.0.1", False),
        ("0.0.0.0", False),
    ],
)
def test_address_rules(address: str, ok: bool) -> None:
    assert address_allowed(address) is ok


def test_literal_hosts_and_names() -> None:
    assert literal_host_allowed("https://example.com/x") is True  # names: checked on delivery
    assert literal_host_allowed("http://LOCALHOST/") is False
    assert literal_host_allowed("http://10.0.0.1/") is False


def loopback_name() -> str | None:
    """A host name other than ``localhost`` that resolves only to loopback (often the
    machine's own name), to reach the resolver's check rather than the literal one."""
    name = socket.gethostname()
    try:
        infos = socket.getaddrinfo(name, 80, type=socket.SOCK_STREAM)
    except OSError:
        return None
    addresses = {str(info[4][0]) for info in infos}
    loopback = all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses)
    return name if addresses and loopback and literal_host_allowed(f"http://{name}/") else None


async def test_localhost_is_refused_on_delivery(
    factory: Factory, hooks: Hooks, receiver: Receiver, make_dispatcher: MakeDispatcher
) -> None:
    """An endpoint stored while private URLs were allowed, then a strict dispatcher."""
    t = await factory.tenant()
    await hooks.endpoint(t, url=f"http://localhost:{receiver.port}/local")
    await factory.source(t)
    clock = FakeClock()
    assert await make_dispatcher(clock, webhook_allow_private_urls=False).run_once() == 1
    assert receiver.hits == []
    (log,) = await hooks.logs()
    assert log.status_code is None
    assert log.error and BLOCKED_MESSAGE in log.error
    assert [d.state for d in await hooks.deliveries()] == ["pending"]  # retried later
    # The same URL works for a dispatcher that allows private addresses.
    clock.advance(1)
    assert await make_dispatcher(clock, webhook_allow_private_urls=True).run_once() == 1
    assert [h.path for h in receiver.hits] == ["/local"]


async def test_the_resolver_drops_internal_answers() -> None:
    """What the strict dispatcher's connector uses for every name it connects to."""
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(**resolver_kwargs(False))
    ) as http:
        with pytest.raises(aiohttp.ClientConnectorError) as caught:
            await http.post("http://localhost:9/", data=b"{}")
    assert BLOCKED_MESSAGE in describe(caught.value)


async def test_a_name_resolving_to_loopback_is_refused_on_delivery(
    factory: Factory, hooks: Hooks, receiver: Receiver, make_dispatcher: MakeDispatcher
) -> None:
    name = loopback_name()
    if name is None:
        pytest.skip("this machine has no host name that resolves only to loopback")
    t = await factory.tenant()
    await hooks.endpoint(t, url=f"http://{name}:{receiver.port}/named")
    await factory.source(t)
    assert await make_dispatcher(FakeClock(), webhook_allow_private_urls=False).run_once() == 1
    assert receiver.hits == []
    (log,) = await hooks.logs()
    assert log.error and BLOCKED_MESSAGE in log.error
