"""Per-token rate limit and monthly quota over HTTP (docs/api/rate-limits.md steps 4 and 5)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from tests.factories import Factory, Tenant


def next_month_start(now: datetime) -> datetime:
    """Computed here on its own, not with the code under test."""
    year, month = (now.year + 1, 1) if now.month == 12 else (now.year, now.month + 1)
    return datetime(year, month, 1, tzinfo=UTC)


async def burst(client: httpx.AsyncClient, t: Tenant, n: int) -> list[httpx.Response]:
    return [await client.get(t.url("/statuses"), headers=t.headers) for _ in range(n)]


def assert_too_many(r: httpx.Response, decay_minutes: int) -> int:
    assert r.status_code == 429, r.text
    body = r.json()
    assert set(body) == {"message", "retry_after"}  # no "status" key
    assert body["message"] == "Too many requests"
    n = body["retry_after"]
    assert isinstance(n, int)
    assert 1 <= n <= decay_minutes * 60
    assert r.headers["Retry-After"] == str(n)
    return n


async def test_default_limit_is_60_per_minute(client: httpx.AsyncClient, factory: Factory) -> None:
    t = await factory.tenant()
    responses = await burst(client, t, 61)
    assert [r.status_code for r in responses[:60]] == [200] * 60
    assert responses[0].headers["X-RateLimit-Limit"] == "60"
    assert_too_many(responses[60], 1)
    assert responses[60].headers["X-RateLimit-Limit"] == "60"
    assert responses[60].headers["X-RateLimit-Remaining"] == "0"


async def test_remaining_counts_down_on_every_authenticated_response(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    t = await factory.tenant(rate_limit_max=6)
    seen = []
    for method, path, body in [
        ("GET", "/statuses", None),  # 200
        ("GET", "/statuses/999", None),  # 404
        ("POST", "/statuses", {"name": "x"}),  # 422
        ("POST", "/statuses", {"name": "Fine"}),  # 201
        ("GET", "/statuses/abc", None),  # 404 from the path parameter
        ("GET", "/statuses?per_page=1000", None),  # 422 from the query
    ]:
        r = await client.request(method, t.url(path), json=body, headers=t.headers)
        assert r.headers["X-RateLimit-Limit"] == "6", (path, r.status_code)
        seen.append((r.status_code, r.headers["X-RateLimit-Remaining"]))
    assert seen == [(200, "5"), (404, "4"), (422, "3"), (201, "2"), (404, "1"), (422, "0")]
    r = await client.get(t.url("/statuses"), headers=t.headers)
    assert_too_many(r, 1)


async def test_403_also_carries_the_rate_headers(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    t = await factory.tenant(abilities=["contacts.read"], rate_limit_max=5)
    r = await client.get(t.url("/statuses"), headers=t.headers)
    assert r.status_code == 403
    assert (r.headers["X-RateLimit-Limit"], r.headers["X-RateLimit-Remaining"]) == ("5", "4")


async def test_workspace_limit_and_decay(client: httpx.AsyncClient, factory: Factory) -> None:
    t = await factory.tenant(rate_limit_max=3, rate_limit_decay=5)
    responses = await burst(client, t, 4)
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert responses[0].headers["X-RateLimit-Limit"] == "3"
    n = assert_too_many(responses[3], 5)
    # The window is five minutes long, so the wait is well over one minute.
    assert n > 60


async def test_token_override_wins_over_the_workspace(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    t = await factory.tenant(rate_limit_max=2, token_fields={"rate_limit_max": 4})
    other, _ = await factory.token(t.workspace)  # no override: the workspace's 2
    responses = await burst(client, t, 5)
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 429]
    assert responses[0].headers["X-RateLimit-Limit"] == "4"
    headers = {"Authorization": f"Bearer {other}"}
    codes = [(await client.get(t.url("/statuses"), headers=headers)).status_code for _ in range(3)]
    assert codes == [200, 200, 429]


async def test_override_may_also_be_lower(client: httpx.AsyncClient, factory: Factory) -> None:
    t = await factory.tenant(rate_limit_max=100, token_fields={"rate_limit_max": 1})
    responses = await burst(client, t, 2)
    assert [r.status_code for r in responses] == [200, 429]


async def test_limit_is_per_token(client: httpx.AsyncClient, factory: Factory) -> None:
    t = await factory.tenant(rate_limit_max=2)
    second, _ = await factory.token(t.workspace)
    other_ws = await factory.tenant(rate_limit_max=2)
    assert [r.status_code for r in await burst(client, t, 3)] == [200, 200, 429]
    headers = {"Authorization": f"Bearer {second}"}
    r = await client.get(t.url("/statuses"), headers=headers)
    assert r.status_code == 200
    assert r.headers["X-RateLimit-Remaining"] == "1"
    assert (
        await client.get(other_ws.url("/statuses"), headers=other_ws.headers)
    ).status_code == 200
    # The exhausted token stays refused.
    assert (await client.get(t.url("/statuses"), headers=t.headers)).status_code == 429


async def test_refused_requests_do_not_count(client: httpx.AsyncClient, factory: Factory) -> None:
    """Requests refused before the limiter (bad token) do not use up anyone's budget."""
    a = await factory.tenant(rate_limit_max=2)
    b = await factory.tenant()
    for _ in range(3):
        assert (await client.get(b.url("/statuses"), headers=a.headers)).status_code == 401
    assert [r.status_code for r in await burst(client, a, 3)] == [200, 200, 429]


# -- monthly quota ------------------------------------------------------------------------------


async def test_monthly_quota(client: httpx.AsyncClient, factory: Factory) -> None:
    t = await factory.tenant(token_fields={"monthly_quota": 3})
    responses = await burst(client, t, 3)
    assert [r.status_code for r in responses] == [200, 200, 200]
    r = await client.get(t.url("/statuses"), headers=t.headers)
    now = datetime.now(UTC)
    assert r.status_code == 429, r.text
    body = r.json()
    assert set(body) == {"message", "retry_after"}
    assert body["message"] == "Monthly quota exceeded"
    expected = (next_month_start(now) - now).total_seconds()
    assert abs(body["retry_after"] - expected) <= 2, (body["retry_after"], expected)
    assert r.headers["Retry-After"] == str(body["retry_after"])
    # Other tokens of the workspace have their own quota.
    other, _ = await factory.token(t.workspace, monthly_quota=3)
    r = await client.get(t.url("/statuses"), headers={"Authorization": f"Bearer {other}"})
    assert r.status_code == 200


async def test_quota_counts_failed_requests_too(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    t = await factory.tenant(token_fields={"monthly_quota": 2})
    assert (await client.get(t.url("/statuses/999"), headers=t.headers)).status_code == 404
    assert (await client.post(t.url("/groups"), json={}, headers=t.headers)).status_code == 422
    r = await client.get(t.url("/statuses"), headers=t.headers)
    assert r.status_code == 429
    assert r.json()["message"] == "Monthly quota exceeded"


@pytest.mark.parametrize("quota", [1, 5])
async def test_quota_admits_exactly_the_quota(
    client: httpx.AsyncClient, factory: Factory, quota: int
) -> None:
    t = await factory.tenant(token_fields={"monthly_quota": quota})
    codes = [r.status_code for r in await burst(client, t, quota + 2)]
    assert codes == [200] * quota + [429, 429]
