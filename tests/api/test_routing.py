"""No exception leaves a route (docs/api/authentication.md step 9): an unexpected failure, also one
raised while
committing or cleaning up, is the 500 envelope and one structured log line; a cleanup step
that fails after an answer the client should see keeps that answer. Each step is made to
fail for real (``tests.faults``), and the client raises if anything escapes the app."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from structlog.testing import capture_logs

from tests.factories import Factory, Tenant
from tests.faults import failing, refuse, refuse_commit
from tests.inbound.conftest import Meta
from xobito.models import InboxEvent, Status
from xobito.whatsapp.webhooks import inbound_payload

FAILED_CREATE = {"status": "error", "message": "Failed to create status"}


@pytest.fixture
async def strict(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client on the app that raises whatever exception escapes it."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=True)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
def logs() -> Iterator[list[dict[str, Any]]]:
    with capture_logs() as captured:
        yield captured


def problems(logs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in logs if e["log_level"] in ("error", "critical", "warning")]


def keyed(t: Tenant, key: str) -> dict[str, str]:
    return {**t.headers, "Idempotency-Key": key}


async def statuses(session: AsyncSession, name: str) -> int:
    await session.rollback()
    stmt = select(func.count()).select_from(Status).where(Status.name == name)
    return int(await session.scalar(stmt) or 0)


async def test_a_commit_that_fails_is_one_500_and_one_log_line_and_frees_the_key(
    strict: httpx.AsyncClient,
    app: FastAPI,
    factory: Factory,
    session: AsyncSession,
    logs: list[dict[str, Any]],
) -> None:
    t = await factory.tenant()
    async with refuse_commit(app, "statuses"):
        r = await strict.post(t.url("/statuses"), json={"name": "New"}, headers=keyed(t, "c"))
    assert (r.status_code, r.json()) == (500, FAILED_CREATE)
    [line] = problems(logs)
    assert (line["event"], line["path"]) == ("unexpected_failure", t.url("/statuses"))
    assert "IntegrityError" in line["error"]
    assert line["cleanup_failed"] is None
    assert await statuses(session, "New") == 0
    r = await strict.post(t.url("/statuses"), json={"name": "New"}, headers=keyed(t, "c"))
    assert r.status_code == 201, r.text
    assert "idempotent-replayed" not in r.headers


async def test_a_rollback_that_fails_after_a_422_keeps_the_422_and_logs_one_line(
    strict: httpx.AsyncClient,
    app: FastAPI,
    factory: Factory,
    logs: list[dict[str, Any]],
) -> None:
    t = await factory.tenant()
    await factory.status(t, "Taken")
    # The token's first use is recorded now, so the only rollback left is the cleanup's.
    assert (await strict.get(t.url("/statuses"), headers=t.headers)).status_code == 200
    with failing(app, "rollback") as failed:
        r = await strict.post(t.url("/statuses"), json={"name": "Taken"}, headers=t.headers)
    assert failed == [1]
    assert r.status_code == 422, r.text
    assert r.json()["errors"] == {"name": ["The name has already been taken."]}
    [line] = problems(logs)
    assert line["event"] == "cleanup_failed"
    [step] = line["cleanup_failed"]
    assert step.startswith("close session: ") and "rollback failed" in step
    # The connection that failed was discarded: the next request is served as usual.
    r = await strict.post(t.url("/statuses"), json={"name": "Free"}, headers=t.headers)
    assert r.status_code == 201, r.text


async def test_an_unexpected_error_whose_cleanup_fails_too_is_one_500_and_one_line(
    strict: httpx.AsyncClient,
    app: FastAPI,
    factory: Factory,
    session: AsyncSession,
    logs: list[dict[str, Any]],
) -> None:
    t = await factory.tenant()
    assert (await strict.get(t.url("/statuses"), headers=t.headers)).status_code == 200
    async with refuse(app, "INSERT", "statuses"):
        with failing(app, "rollback"):
            r = await strict.post(t.url("/statuses"), json={"name": "New"}, headers=t.headers)
    assert (r.status_code, r.json()) == (500, FAILED_CREATE)
    [line] = problems(logs)
    assert line["event"] == "unexpected_failure"
    # The failed INSERT makes SQLAlchemy roll back at once (that rollback fails), or the
    # cleanup does: either way one line names what failed.
    assert "rollback failed" in repr((line["error"], line["cleanup_failed"]))
    # The connection that failed was discarded: the next request is served as usual.
    r = await strict.post(t.url("/statuses"), json={"name": "New"}, headers=t.headers)
    assert r.status_code == 201, r.text
    assert await statuses(session, "New") == 1


async def test_a_release_that_fails_keeps_the_422_and_the_key_is_free_at_once(
    strict: httpx.AsyncClient,
    app: FastAPI,
    factory: Factory,
    session: AsyncSession,
    logs: list[dict[str, Any]],
) -> None:
    """Issue 16.2: the database refuses to give the key back; a retry still goes through."""
    t = await factory.tenant()
    async with refuse(app, "DELETE", "idempotency_keys"):
        r = await strict.post(t.url("/statuses"), json={"name": ""}, headers=keyed(t, "k"))
        assert r.status_code == 422, r.text
        assert r.json()["errors"] == {"name": ["The name field is required."]}
        [line] = problems(logs)
        assert line["event"] == "cleanup_failed"
        [step] = line["cleanup_failed"]
        assert step.startswith("release idempotency key: ") and "refused by the test" in step
        # Its request is over: the reservation holds nothing, even though its row is there.
        r = await strict.post(t.url("/statuses"), json={"name": "Kept"}, headers=keyed(t, "k"))
    assert r.status_code == 201, r.text
    assert "idempotent-replayed" not in r.headers
    r = await strict.post(t.url("/statuses"), json={"name": "Kept"}, headers=keyed(t, "k"))
    assert r.headers["Idempotent-Replayed"] == "true"
    assert await statuses(session, "Kept") == 1


async def test_a_plain_route_failing_is_one_500_and_one_log_line(
    strict: httpx.AsyncClient,
    app: FastAPI,
    client: httpx.AsyncClient,
    factory: Factory,
    admin_headers: dict[str, str],
    session: AsyncSession,
    logs: list[dict[str, Any]],
) -> None:
    meta = Meta(app, strict, factory, admin_headers)
    line = await meta.line()
    payload = inbound_payload(
        waba_id=line.waba_id,
        phone_number_id=line.phone_number_id,
        wamid="wamid.refused",
        wa_id="14155550100",
        profile_name="Ann",
        text="Hi",
    )
    async with refuse(app, "INSERT", "inbox_events"):
        r = await meta.post(payload, line.app_secret)
    assert (r.status_code, r.json()) == (
        500,
        {"status": "error", "message": "Failed to receive webhook"},
    )
    [entry] = problems(logs)
    assert (entry["event"], entry["path"]) == ("unexpected_failure", "/webhooks/whatsapp")
    await session.rollback()
    assert await session.scalar(select(func.count()).select_from(InboxEvent)) == 0
    r = await meta.post(payload, line.app_secret)  # Meta redelivers: now it is kept
    assert r.status_code == 200, r.text
