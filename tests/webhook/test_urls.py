"""SSRF protection (docs/webhooks.md URLs, ``webhook_allow_private_urls``): internal destinations
are
refused when creating an endpoint and again, after name resolution, on every delivery."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import httpx
import pydantic_core
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.factories import Factory
from tests.webhook.conftest import FakeClock, Hooks, MakeDispatcher, Receiver
from xobito.app import create_app
from xobito.config import Settings
from xobito.webhook.dispatcher import describe
from xobito.webhook.urls import (
    BLOCKED_MESSAGE,
    address_allowed,
    literal_host_allowed,
    numeric_host,
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
    # Numeric hosts as browsers and libc's inet_aton read them: all 127.0.0.1 or 0.0.0.0.
    "http://127.1/",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://0X7F.1/",
    "http://0177.0.0.1/",
    "http://127.0.0.1./",
    "http://0/",
    "http://%31%32%37.0.0.1/",  # percent-encoded
    "http://\uff11\uff12\uff17\uff0e\uff10\uff0e\uff10\uff0e\uff11/",  # full-width
    "http://localhost./",
    "http://LocalHost./x",
    "http://[::ffff:7f00:1]/",
    "http://[::ffff:10.0.0.1]/",
    "http://[2002:7f00:1::1]/",  # 6to4 around 127.0.0.1
    "http://1.2.3.4.5/",  # ends in a number but is no IPv4 address: no valid host
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
    assert literal_host_allowed("https://example.com/x") is True  # names: resolved
    assert literal_host_allowed("http://LOCALHOST/") is False
    assert literal_host_allowed("http://10.0.0.1/") is False
    assert literal_host_allowed("http://0x7f000001/") is False
    assert literal_host_allowed("http://93.184.216.34/") is True
    assert literal_host_allowed("http://1604.184.216.34.example/") is True  # a name
    assert literal_host_allowed("http://0x5db8d822/") is True  # 93.184.216.34


@pytest.mark.parametrize(
    "host",
    [
        "127.1",
        "2130706433",
        "0x7f000001",
        "0x7F.0.0.1",
        "0177.0.0.01",
        "127.0.0.1.",
        "0",
        "0x",
        "00",
        "4294967295",
        "1.16777215",
        "1.2.65535",
        "93.184.216.34",
        "255.255.255.255",
    ],
)
def test_numeric_hosts_are_read_as_a_browser_reads_them(host: str) -> None:
    """The WHATWG URL parser (pydantic's, from the Rust url crate) as the reference."""
    expected = pydantic_core.Url(f"http://{host}/").host
    assert str(numeric_host(host)) == expected


def _part(draw: st.DrawFn) -> str:
    n = draw(st.integers(0, 2**32))
    form = draw(st.sampled_from(["dec", "hex", "HEX", "oct", "empty-hex"]))
    return {"dec": str(n), "hex": f"0x{n:x}", "HEX": f"0X{n:X}", "oct": f"0{n:o}"}.get(form, "0x")


@st.composite
def dotted_numbers(draw: st.DrawFn) -> str:
    parts = [_part(draw) for _ in range(draw(st.integers(1, 5)))]
    return ".".join(parts) + draw(st.sampled_from(["", "."]))


@hypothesis_settings(max_examples=300, deadline=None)
@given(dotted_numbers())
def test_every_dotted_number_is_read_as_a_browser_reads_it(host: str) -> None:
    try:
        expected = pydantic_core.Url(f"http://{host}/").host
    except ValueError:
        with pytest.raises(ValueError):
            numeric_host(host)
        return
    assert str(numeric_host(host)) == expected


@pytest.mark.parametrize("host", ["4294967296", "1.2.3.4.5", "256.1.1.1", "09", "1..2", ".1.2"])
def test_hosts_ending_in_a_number_that_are_no_address_are_invalid(host: str) -> None:
    with pytest.raises(ValueError):
        pydantic_core.Url(f"http://{host}/")
    with pytest.raises(ValueError):
        numeric_host(host)


@pytest.mark.parametrize(
    "host", ["example.com", "1.2.3.example", "0x7f.example", "a1", "1.2.3.0x1g", "1.2.3.4.."]
)
def test_names_are_not_numeric_hosts(host: str) -> None:
    assert numeric_host(host) is None


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """Stands in for DNS (this machine has none): the names in the returned mapping resolve
    to the given addresses, as the public wildcard services would answer."""
    answers: dict[str, list[str]] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name in answers:
            return [
                (
                    socket.AF_INET6 if ":" in a else socket.AF_INET,
                    socket.SOCK_STREAM,
                    6,
                    "",
                    (a, port or 0),
                )
                for a in answers[name]
            ]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


@pytest.mark.parametrize(
    ("host", "addresses"),
    [
        ("10.0.0.1.nip.io", ["10.0.0.1"]),
        ("app.127-0-0-1.sslip.io", ["127.0.0.1"]),
        ("metadata.example", ["169.254.169.254"]),
        ("six.example", ["::1"]),
        ("mixed.example", ["93.184.216.34", "192.168.1.1"]),  # one internal answer is enough
    ],
)
async def test_names_resolving_to_internal_addresses_are_refused_at_creation(
    strict: httpx.AsyncClient,
    factory: Factory,
    hooks: Hooks,
    dns: dict[str, list[str]],
    host: str,
    addresses: list[str],
) -> None:
    dns[host] = addresses
    t = await factory.tenant()
    url = f"http://{host}/hook"
    r = await strict.post(f"{hooks.base(t)}/webhooks", json={"url": url}, headers=hooks.admin)
    assert r.status_code == 422, r.text
    assert r.json()["errors"] == {"url": [BLOCKED_MESSAGE]}


async def test_a_name_resolving_to_public_addresses_or_not_yet_resolving_is_accepted(
    strict: httpx.AsyncClient, factory: Factory, hooks: Hooks, dns: dict[str, list[str]]
) -> None:
    """A name that does not resolve (yet) is kept: every delivery checks it again."""
    dns["hooks.public.example"] = ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"]
    t = await factory.tenant()
    for url in ("https://hooks.public.example/x", "https://not-in-dns.invalid/x"):
        r = await strict.post(f"{hooks.base(t)}/webhooks", json={"url": url}, headers=hooks.admin)
        assert r.status_code == 201, r.text


async def test_private_names_and_numbers_are_fine_when_allowed(
    client: httpx.AsyncClient, factory: Factory, hooks: Hooks
) -> None:
    t = await factory.tenant()
    for url in ("http://127.1:9/x", "http://localhost./x"):
        r = await client.post(f"{hooks.base(t)}/webhooks", json={"url": url}, headers=hooks.admin)
        assert r.status_code == 201, r.text


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
