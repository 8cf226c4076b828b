"""The door into /api/v1 (docs/api/authentication.md): subdomain, bearer token, token validity,
order of checks."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import event, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import Factory
from xobito.auth import tokens
from xobito.models import ApiToken

REQUIRED = {"status": "error", "message": "API token is required"}
INVALID = {"status": "error", "message": "Invalid API token"}
BAD_SUBDOMAIN = {
    "status": "error",
    "message": "Validation failed",
    "errors": "Invalid tenant subdomain",
}


async def _row(session: AsyncSession, token_id: int) -> ApiToken:
    await session.rollback()  # a fresh snapshot: see what the requests committed
    row = await session.get(ApiToken, token_id, populate_existing=True)
    assert row is not None
    return row


# -- step 1: the subdomain ----------------------------------------------------------------------


@pytest.mark.parametrize("subdomain", ["nosuchws", "UPPER", "a" * 64, "ws-x"])
async def test_unknown_subdomain_is_400_before_anything_else(
    client: httpx.AsyncClient, factory: Factory, subdomain: str
) -> None:
    t = await factory.tenant(subdomain="ws-real")
    for headers in [t.headers, {}, {"Authorization": "Bearer nonsense"}]:
        r = await client.get(f"/api/v1/{subdomain}/contacts", headers=headers)
        assert r.status_code == 400, r.text
        assert r.json() == BAD_SUBDOMAIN
        r = await client.post(f"/api/v1/{subdomain}/statuses", json={}, headers=headers)
        assert (r.status_code, r.json()) == (400, BAD_SUBDOMAIN)


# -- step 2: a bearer token is present ----------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": ""},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer     "},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Token apitk_" + "a" * 64},
        {"X-Api-Token": "apitk_" + "a" * 64},
    ],
    ids=["none", "empty", "bearer-only", "bearer-space", "bearer-blank", "basic", "token", "other"],
)
async def test_missing_bearer_token_is_401_required(
    client: httpx.AsyncClient, factory: Factory, headers: dict[str, str]
) -> None:
    t = await factory.tenant()
    r = await client.get(t.url("/statuses"), headers=headers)
    assert r.status_code == 401, r.text
    assert r.json() == REQUIRED


async def test_bearer_scheme_is_case_insensitive(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    t = await factory.tenant()
    r = await client.get(t.url("/statuses"), headers={"Authorization": f"bearer {t.token}"})
    assert r.status_code == 200, r.text


# -- step 3: the token is valid here ------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "apitk_" + "A" * 64,  # well-formed, unknown
        "apitk_short",
        "apitk_" + "a" * 65,
        "apitk_" + "!" * 64,
        "not-a-token",
        "a" * 70,
        "apitk_" + "é" * 64,
    ],
    ids=["unknown", "short", "long", "symbols", "garbage", "no-prefix", "unicode"],
)
async def test_unknown_or_malformed_token_is_401_invalid(
    client: httpx.AsyncClient, factory: Factory, value: str
) -> None:
    t = await factory.tenant()
    header = f"Bearer {value}".encode()  # raw bytes: httpx would refuse non-ASCII text
    r = await client.get(t.url("/statuses"), headers=[(b"Authorization", header)])
    assert r.status_code == 401, r.text
    assert r.json() == INVALID


async def test_a_changed_character_is_invalid(client: httpx.AsyncClient, factory: Factory) -> None:
    t = await factory.tenant()
    last = t.token[-1]
    forged = t.token[:-1] + ("b" if last == "a" else "a")
    r = await client.get(t.url("/statuses"), headers={"Authorization": f"Bearer {forged}"})
    assert (r.status_code, r.json()) == (401, INVALID)
    r = await client.get(t.url("/statuses"), headers=t.headers)
    assert r.status_code == 200


async def test_token_of_another_workspace_is_401(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant()
    b = await factory.tenant()
    r = await client.get(b.url("/statuses"), headers=a.headers)
    assert (r.status_code, r.json()) == (401, INVALID)
    r = await client.post(b.url("/sources"), json={"name": "x"}, headers=a.headers)
    assert (r.status_code, r.json()) == (401, INVALID)
    r = await client.get(a.url("/statuses"), headers=a.headers)
    assert r.status_code == 200


async def test_revoked_token_is_401(
    client: httpx.AsyncClient, factory: Factory, admin_headers: dict[str, str]
) -> None:
    t = await factory.tenant()
    other, _ = await factory.token(t.workspace)
    assert (await client.get(t.url("/statuses"), headers=t.headers)).status_code == 200
    sub = t.workspace.subdomain
    r = await client.delete(
        f"/api/admin/workspaces/{sub}/tokens/{t.token_id}", headers=admin_headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["data"]["is_active"] == 0
    r = await client.get(t.url("/statuses"), headers=t.headers)
    assert (r.status_code, r.json()) == (401, INVALID)
    # Only that token was revoked.
    r = await client.get(t.url("/statuses"), headers={"Authorization": f"Bearer {other}"})
    assert r.status_code == 200


async def test_expired_token_is_401(
    client: httpx.AsyncClient, factory: Factory, session: AsyncSession
) -> None:
    soon = datetime.now(UTC) + timedelta(days=1)
    t = await factory.tenant(token_fields={"expires_at": soon})
    r = await client.get(t.url("/statuses"), headers=t.headers)
    assert r.status_code == 200, r.text
    past = datetime.now(UTC) - timedelta(seconds=1)
    await session.execute(update(ApiToken).where(ApiToken.id == t.token_id).values(expires_at=past))
    await session.commit()
    r = await client.get(t.url("/statuses"), headers=t.headers)
    assert (r.status_code, r.json()) == (401, INVALID)


# -- storage of tokens --------------------------------------------------------------------------


async def test_only_the_sha256_hex_digest_is_stored(
    factory: Factory, session: AsyncSession
) -> None:
    t = await factory.tenant()
    assert tokens.looks_valid(t.token)
    assert t.token.startswith("apitk_") and len(t.token) == 70
    secret = t.token[len("apitk_") :]
    row = await _row(session, t.token_id)
    assert row.token_hash == hashlib.sha256(t.token.encode()).hexdigest()
    for column in ApiToken.__table__.columns:
        value = getattr(row, column.key)
        text = value.decode() if isinstance(value, bytes) else str(value)
        assert t.token not in text, column.key
        assert secret not in text, column.key
        assert secret[:16] not in text, column.key
    found = await session.scalars(select(ApiToken).where(ApiToken.token_hash == t.token))
    assert found.all() == []


async def test_admin_token_list_never_shows_the_secret(
    client: httpx.AsyncClient, factory: Factory, admin_headers: dict[str, str]
) -> None:
    t = await factory.tenant()
    r = await client.get(
        f"/api/admin/workspaces/{t.workspace.subdomain}/tokens", headers=admin_headers
    )
    assert r.status_code == 200, r.text
    assert t.token[len("apitk_") :][:16] not in r.text
    assert hashlib.sha256(t.token.encode()).hexdigest() not in r.text


async def test_last_used_at_is_set_on_use(
    client: httpx.AsyncClient, factory: Factory, session: AsyncSession
) -> None:
    t = await factory.tenant()
    assert (await _row(session, t.token_id)).last_used_at is None
    before = datetime.now(UTC)
    r = await client.get(t.url("/statuses"), headers=t.headers)
    after = datetime.now(UTC)
    assert r.status_code == 200
    used = (await _row(session, t.token_id)).last_used_at
    assert used is not None
    assert before - timedelta(seconds=1) <= used <= after + timedelta(seconds=1)


async def test_last_used_at_is_set_even_when_the_request_fails_later(
    client: httpx.AsyncClient, factory: Factory, session: AsyncSession
) -> None:
    t = await factory.tenant()
    r = await client.get(t.url("/statuses/999"), headers=t.headers)
    assert r.status_code == 404
    # The 404 rolls the request's transaction back; the token was used all the same.
    assert (await _row(session, t.token_id)).last_used_at is not None


async def test_a_refused_token_is_not_marked_used(
    client: httpx.AsyncClient, factory: Factory, session: AsyncSession
) -> None:
    a = await factory.tenant()
    b = await factory.tenant()
    r = await client.get(b.url("/statuses"), headers=a.headers)
    assert r.status_code == 401
    assert (await _row(session, a.token_id)).last_used_at is None


# -- order of the checks ------------------------------------------------------------------------


async def test_invalid_token_wins_over_missing_ability(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant(abilities=["contacts.read"])
    b = await factory.tenant()
    r = await client.get(b.url("/statuses"), headers=a.headers)
    assert (r.status_code, r.json()) == (401, INVALID)


async def test_rate_limit_wins_over_missing_ability(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    t = await factory.tenant(abilities=["contacts.read"], token_fields={"rate_limit_max": 1})
    r = await client.get(t.url("/statuses"), headers=t.headers)
    assert r.status_code == 403, r.text
    r = await client.get(t.url("/statuses"), headers=t.headers)
    assert r.status_code == 429, r.text
    assert r.json()["message"] == "Too many requests"


async def test_quota_wins_over_missing_ability(client: httpx.AsyncClient, factory: Factory) -> None:
    t = await factory.tenant(abilities=["contacts.read"], token_fields={"monthly_quota": 1})
    r = await client.get(t.url("/statuses"), headers=t.headers)
    assert r.status_code == 403, r.text
    r = await client.get(t.url("/statuses"), headers=t.headers)
    assert r.status_code == 429, r.text
    assert r.json()["message"] == "Monthly quota exceeded"


async def test_rate_limit_wins_over_validation(client: httpx.AsyncClient, factory: Factory) -> None:
    t = await factory.tenant(token_fields={"rate_limit_max": 1})
    r = await client.post(t.url("/statuses"), json={}, headers=t.headers)
    assert r.status_code == 422, r.text
    r = await client.post(t.url("/statuses"), json={}, headers=t.headers)
    assert r.status_code == 429, r.text


async def test_a_burst_at_a_stale_token_writes_last_used_at_once(
    app: Any, client: httpx.AsyncClient, factory: Factory, session: AsyncSession
) -> None:
    """Requests arriving together at a token due for its touch: one UPDATE, not one each
    (each would queue on the row's lock holding a pooled connection; issue 16)."""
    t = await factory.tenant()
    updates: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE API_TOKENS"):
            updates.append(statement)

    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        answers = await asyncio.gather(
            *(client.get(t.url("/statuses"), headers=t.headers) for _ in range(20))
        )
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert [r.status_code for r in answers] == [200] * 20
    assert len(updates) == 1
    assert (await _row(session, t.token_id)).last_used_at is not None
